"""recorder: keeps the evidence of every unit (image, heatmap, anomaly result, verdict, actuator
event, dispositions) encrypted in a bounded ring buffer, and audits every verdict and disposition.

Items are joined by capture stamp. They wait in memory until the unit's verdict arrives, then the
unit is written in one transaction; items that come later (actuator event, disposition) are
appended to it. A unit whose verdict never comes is written anyway after `pending_timeout_s`:
missing verdicts are evidence too.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from rclpy.node import Node
from sensor_msgs.msg import Image

from inspection_msgs.msg import ActuatorEvent, AnomalyResult, CaptureEvent, Disposition, Verdict
from inspection_msgs.srv import SubmitDisposition
from inspection_nodes.core.evidence.audit import AuditLog
from inspection_nodes.core.evidence.crypto import Cipher, generate_key_file, load_key
from inspection_nodes.core.evidence.dispositions import disposition_problems
from inspection_nodes.core.evidence.images import FORMATS, encode_image
from inspection_nodes.core.evidence.pending import PendingUnit, PendingUnits, Placed
from inspection_nodes.core.evidence.store import EvidenceItem, EvidenceStore
from inspection_nodes.nodes.common import (
    AUDIT_PATH,
    Health,
    ParamSpec,
    declare_parameters,
    run_node,
)
from inspection_nodes.nodes.convert import image_to_array, stamp_to_ns
from inspection_nodes.nodes.msg_json import (
    actuator_body,
    anomaly_body,
    disposition_body,
    verdict_body,
)
from inspection_nodes.nodes.qos import DEBUG_IMAGE_QOS, RESULT_QOS, UNIT_IMAGE_QOS, overridable

IMAGE_TOPICS = {"roi": "roi/image", "frame": "camera/image_raw"}


class RecorderCounter(StrEnum):
    UNITS_RECORDED = "units_recorded"
    LATE_ITEMS = "late_items"  # a piece of a unit already written, appended to it
    PENDING_OVERFLOW = "pending_overflow"  # a unit written early to bound memory
    UNIT_WITHOUT_VERDICT = "unit_without_verdict"  # written after pending_timeout_s
    EVIDENCE_FAILED = "evidence_failed"
    AUDIT_FAILED = "audit_failed"
    EVICTED_UNITS = "evicted_units"
    EVICTED_UNSYNCED = "evicted_unsynced"  # evicted before the backend had them
    EVICTION_FAILED = "eviction_failed"
    DISPOSITION_REJECTED = "disposition_rejected"


PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("evidence_dir", "evidence", "directory of evidence.db", read_only=True),
    ParamSpec(
        "key_file",
        "",
        "AES-256 key file, mode 0600 (empty: $INSPECTION_EVIDENCE_KEY)",
        read_only=True,
    ),
    ParamSpec(
        "create_key_if_missing",
        False,
        "demo convenience: create key_file (0600) when it does not exist",
        read_only=True,
    ),
    ParamSpec(
        "store_image",
        "roi",
        "which image to keep per unit",
        read_only=True,
        choices=("roi", "frame", "none"),
    ),
    ParamSpec("store_heatmap", True, "keep anomaly/heatmap per unit", read_only=True),
    ParamSpec("image_format", "png", "image compression", read_only=True, choices=FORMATS),
    ParamSpec(
        "jpeg_quality", 90, "JPEG quality when image_format is jpg", range=(1, 100), read_only=True
    ),
    ParamSpec(
        "max_age_h",
        48.0,
        "evidence older than this is evicted",
        range=(0.001, 8760.0),
        read_only=True,
    ),
    ParamSpec(
        "max_size_gb",
        20.0,
        "evidence beyond this size is evicted, oldest first",
        range=(0.001, 100000.0),
        read_only=True,
    ),
    ParamSpec(
        "evict_period_s", 10.0, "how often bounds are enforced", range=(0.5, 3600.0), read_only=True
    ),
    ParamSpec(
        "pending_timeout_s",
        30.0,
        "a unit with no verdict is written after this",
        range=(1.0, 3600.0),
        read_only=True,
    ),
    ParamSpec(
        "max_pending_units",
        2000,
        "units held in memory awaiting a verdict",
        range=(10, 100000),
        read_only=True,
    ),
    AUDIT_PATH,
)


@dataclass(frozen=True)
class _RawImage:
    """An image message kept as received until its unit is written.

    Encoding (PNG/JPEG) waits for the verdict: done on arrival it competed for the CPU with
    the embedding and scoring of the same unit and lengthened camera->verdict.
    """

    kind: str
    msg: Image


def _json_item(kind: str, body: dict[str, Any]) -> EvidenceItem:
    return EvidenceItem(kind, "application/json", json.dumps(body, allow_nan=False).encode())


class RecorderNode(Node):
    """Evidence ring buffer and audit writer for verdicts and dispositions."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("recorder", **kwargs)
        self.p = declare_parameters(self, PARAMETERS)
        cipher = Cipher(load_key(self._key_file()))
        self.store = EvidenceStore(
            Path(self.p["evidence_dir"]),
            cipher,
            self.p["max_age_h"] * 3600.0,
            self.p["max_size_gb"] * 1e9,
        )
        self.audit = AuditLog(Path(self.p["audit_path"]))
        self.health = Health(self, RecorderCounter)
        self.pending: PendingUnits[EvidenceItem | _RawImage] = PendingUnits(
            self.p["max_pending_units"]
        )
        self.disposition_pub = self.create_publisher(
            Disposition, "disposition", RESULT_QOS, qos_overriding_options=overridable()
        )
        self._subscribe(CaptureEvent, "camera/unit", RESULT_QOS, self._on_capture)
        if self.p["store_image"] != "none":
            kind = self.p["store_image"]
            self._subscribe(
                Image, IMAGE_TOPICS[kind], UNIT_IMAGE_QOS, lambda m: self._on_image(kind, m)
            )
        if self.p["store_heatmap"]:
            self._subscribe(
                Image, "anomaly/heatmap", DEBUG_IMAGE_QOS, lambda m: self._on_image("heatmap", m)
            )
        self._subscribe(
            AnomalyResult,
            "anomaly/result",
            RESULT_QOS,
            lambda m: self._add(m, _json_item("anomaly_result", anomaly_body(m))),
        )
        self._subscribe(
            ActuatorEvent,
            "actuator/event",
            RESULT_QOS,
            lambda m: self._add(m, _json_item("actuator_event", actuator_body(m))),
        )
        self._subscribe(Verdict, "verdict", RESULT_QOS, self._on_verdict)
        self.create_service(
            SubmitDisposition, "recorder/submit_disposition", self._on_submit_disposition
        )
        self.create_timer(1.0, self._expire_pending)
        self.create_timer(self.p["evict_period_s"], self._evict)

    def destroy_node(self) -> None:
        store = getattr(self, "store", None)  # absent when the constructor failed (no key)
        if store is not None:
            store.close()
        super().destroy_node()

    def _key_file(self) -> str:
        """The key path; with create_key_if_missing a missing file is made (and said so)."""
        path = self.p["key_file"]
        if path and self.p["create_key_if_missing"] and not Path(path).exists():
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            generate_key_file(Path(path))
            self.get_logger().warning(f"created a new evidence key {path}: back it up")
        return path

    def _subscribe(self, msg_type, topic: str, qos, handler) -> None:
        """Every callback is wrapped: a bad message or a disk error is counted, never raised."""

        def callback(msg) -> None:
            try:
                handler(msg)
            except Exception as exc:
                self.health.reject(RecorderCounter.EVIDENCE_FAILED, f"{topic}: {exc}")

        self.create_subscription(
            msg_type, topic, callback, qos, qos_overriding_options=overridable()
        )

    def _on_capture(self, msg: CaptureEvent) -> None:
        stamp = stamp_to_ns(msg.header.stamp)
        self._write_overflow(self.pending.open(stamp, msg.unit_id, time.monotonic()))

    def _on_image(self, kind: str, msg: Image) -> None:
        self._add(msg, _RawImage(kind, msg), unit_id="")

    def _encoded(self, item: EvidenceItem | _RawImage) -> EvidenceItem:
        if isinstance(item, EvidenceItem):
            return item
        msg = item.msg
        media, data = encode_image(
            image_to_array(msg), msg.encoding, self.p["image_format"], self.p["jpeg_quality"]
        )
        return EvidenceItem(item.kind, media, data)

    def _add(self, msg, item: EvidenceItem | _RawImage, unit_id: str | None = None) -> None:
        stamp = stamp_to_ns(msg.header.stamp)
        uid = msg.unit_id if unit_id is None else unit_id
        placed = self.pending.add(stamp, uid, item, time.monotonic())
        self._write_overflow(placed)
        if placed.late_unit_id is not None:
            self.store.record(stamp, placed.late_unit_id, [self._encoded(item)])
            self.health.counters.inc(RecorderCounter.LATE_ITEMS)

    def _write_overflow(self, placed: Placed) -> None:
        for stamp, unit in placed.overflow:
            self.health.reject(
                RecorderCounter.PENDING_OVERFLOW, f"unit {unit.unit_id} written early"
            )
            self._write(stamp, unit)

    def _on_verdict(self, msg: Verdict) -> None:
        stamp = stamp_to_ns(msg.header.stamp)
        body = verdict_body(msg)
        self._add(msg, _json_item("verdict", body))
        unit = self.pending.take(stamp)
        if unit is not None:
            self._write(stamp, unit)
        try:  # a failing audit must not cost the evidence, and vice versa
            self.audit.append("verdict", body, actor="gate")
        except Exception as exc:
            self.health.reject(RecorderCounter.AUDIT_FAILED, f"verdict {msg.unit_id}: {exc}")

    def _write(self, stamp: int, unit: PendingUnit) -> None:
        unit_id = self.pending.mark_written(stamp, unit)
        items = []
        for item in unit.items:
            try:
                items.append(self._encoded(item))
            except Exception as exc:  # one unencodable image must not cost the unit's record
                self.health.reject(
                    RecorderCounter.EVIDENCE_FAILED, f"unit {unit_id} {item.kind}: {exc}"
                )
        self.store.record(stamp, unit_id, items)
        self.health.counters.inc(RecorderCounter.UNITS_RECORDED)

    def _expire_pending(self) -> None:
        try:
            for stamp, unit in self.pending.expired(time.monotonic() - self.p["pending_timeout_s"]):
                self.health.reject(
                    RecorderCounter.UNIT_WITHOUT_VERDICT, f"unit {unit.unit_id} had no verdict"
                )
                self._write(stamp, unit)
        except Exception as exc:
            self.health.reject(RecorderCounter.EVIDENCE_FAILED, f"expire: {exc}")

    def _evict(self) -> None:
        try:
            report = self.store.evict()
            if report.unsynced_units:
                self.health.counters.inc(RecorderCounter.EVICTED_UNSYNCED, report.unsynced_units)
                self.get_logger().warning(
                    f"evicted {report.unsynced_units} units never exported to the backend"
                )
                self.audit.append("evidence_eviction", report.__dict__, actor="recorder")
            self.health.counters.inc(RecorderCounter.EVICTED_UNITS, report.units)
        except Exception as exc:
            self.health.reject(RecorderCounter.EVICTION_FAILED, str(exc))

    def _on_submit_disposition(self, request, response):
        msg: Disposition = request.disposition
        problems = disposition_problems(
            msg.unit_id, msg.operator_id, msg.disposition, stamp_to_ns(msg.header.stamp)
        )
        if problems:
            response.success, response.message = False, "; ".join(problems)
            self.health.reject(RecorderCounter.DISPOSITION_REJECTED, response.message)
            return response
        try:
            body = disposition_body(msg)
            self._add(msg, _json_item("disposition", body))
            self.audit.append("disposition", body, actor=msg.operator_id)
            self.disposition_pub.publish(msg)
            response.success, response.message = True, "recorded"
        except Exception as exc:
            response.success, response.message = False, f"not recorded: {exc}"
            self.health.reject(RecorderCounter.EVIDENCE_FAILED, response.message)
        return response


def main(args: list[str] | None = None) -> None:
    run_node(RecorderNode, args)


if __name__ == "__main__":
    main()
