"""recorder node in-process: a unit's evidence is joined by stamp, encrypted, written on its
verdict, late items appended; dispositions recorded, audited and republished; key errors clear."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from helpers.ros import Collector, spin_until
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from inspection_msgs.msg import ActuatorEvent, AnomalyResult, CaptureEvent, Disposition, Verdict
from inspection_msgs.srv import SubmitDisposition
from inspection_nodes.core.evidence.audit import AuditLog
from inspection_nodes.core.evidence.crypto import (
    Cipher,
    EvidenceKeyError,
    generate_key_file,
    load_key,
)
from inspection_nodes.core.evidence.images import decode_image
from inspection_nodes.core.evidence.store import EvidenceStore
from inspection_nodes.nodes.convert import array_to_image, ns_to_stamp
from inspection_nodes.nodes.qos import RESULT_QOS, UNIT_IMAGE_QOS
from inspection_nodes.nodes.recorder_node import RecorderNode

STAMP = 1_700_000_000_000_000_042


def _params(tmp_path: Path, **extra) -> list[Parameter]:
    key = tmp_path / "key"
    if not key.exists():
        generate_key_file(key)
    values = {
        "key_file": str(key),
        "evidence_dir": str(tmp_path / "ev"),
        "audit_path": str(tmp_path / "audit.log"),
        **extra,
    }
    return [Parameter(k, value=v) for k, v in values.items()]


@pytest.fixture
def cell(tmp_path: Path, ros_context):
    node = RecorderNode(context=ros_context, parameter_overrides=_params(tmp_path))
    helper = Node("recorder_test_helper", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    executor.add_node(helper)
    yield node, helper, executor, tmp_path
    node.destroy_node()
    helper.destroy_node()


def _header() -> Header:
    return Header(stamp=ns_to_stamp(STAMP))


def test_unit_is_recorded_on_verdict_and_late_items_appended(cell) -> None:
    node, helper, executor, tmp_path = cell
    pubs = {
        "unit": helper.create_publisher(CaptureEvent, "camera/unit", RESULT_QOS),
        "roi": helper.create_publisher(Image, "roi/image", UNIT_IMAGE_QOS),
        "result": helper.create_publisher(AnomalyResult, "anomaly/result", RESULT_QOS),
        "verdict": helper.create_publisher(Verdict, "verdict", RESULT_QOS),
        "event": helper.create_publisher(ActuatorEvent, "actuator/event", RESULT_QOS),
    }
    assert spin_until(executor, lambda: all(p.get_subscription_count() for p in pubs.values()))
    roi = np.random.default_rng(0).integers(0, 255, (24, 32, 3), dtype=np.uint8)
    pubs["unit"].publish(CaptureEvent(header=_header(), unit_id="u42"))
    pubs["roi"].publish(array_to_image(roi, _header(), "rgb8"))
    pubs["result"].publish(AnomalyResult(header=_header(), unit_id="u42", score=5.0))
    assert spin_until(
        executor, lambda: node.pending.get(STAMP) and len(node.pending.get(STAMP).items) == 2
    )
    assert node.store.units() == []  # nothing written before the verdict
    pubs["verdict"].publish(Verdict(header=_header(), unit_id="u42", decision=Verdict.FAIL))
    assert spin_until(executor, lambda: node.store.units() == [(STAMP, "u42")])
    pubs["event"].publish(ActuatorEvent(header=_header(), unit_id="u42"))
    assert spin_until(executor, lambda: node.health.counters.get("late_items") == 1)

    items = node.store.items(STAMP)
    assert [i.kind for i in items] == ["roi", "anomaly_result", "verdict", "actuator_event"]
    np.testing.assert_array_equal(decode_image(items[0].media_type, items[0].data)[..., ::-1], roi)
    entries = AuditLog(tmp_path / "audit.log").entries()
    assert [e["kind"] for e in entries] == ["verdict"]
    assert entries[0]["payload"]["decision"] == "FAIL"
    with pytest.raises(EvidenceKeyError):  # readable only with the key
        EvidenceStore(tmp_path / "ev", Cipher(os.urandom(32)))
    assert EvidenceStore(tmp_path / "ev", Cipher(load_key(tmp_path / "key"))).items(STAMP)


def test_disposition_is_recorded_audited_and_republished(cell) -> None:
    node, helper, executor, tmp_path = cell
    client = helper.create_client(SubmitDisposition, "recorder/submit_disposition")
    seen = Collector()
    helper.create_subscription(Disposition, "disposition", seen, RESULT_QOS)
    assert client.wait_for_service(timeout_sec=5)

    def call(disposition: Disposition):
        future = client.call_async(SubmitDisposition.Request(disposition=disposition))
        assert spin_until(executor, future.done)
        return future.result()

    bad = call(Disposition(unit_id="u42", disposition=7))
    assert not bad.success and "operator_id is empty" in bad.message and "unknown" in bad.message
    good = call(
        Disposition(
            header=_header(),
            unit_id="u42",
            operator_id="op7",
            disposition=Disposition.FALSE_REJECT,
            note="scratch is dust",
        )
    )
    assert good.success, good.message
    assert spin_until(executor, lambda: len(seen.messages) == 1)
    entries = AuditLog(tmp_path / "audit.log").entries()
    assert entries[-1]["kind"] == "disposition" and entries[-1]["actor"] == "op7"
    assert entries[-1]["payload"]["disposition"] == "FALSE_REJECT"
    assert [i.kind for i in node.pending.get(STAMP).items] == ["disposition"]


def test_missing_or_open_key_stops_start_up_with_a_clear_error(tmp_path, ros_context) -> None:
    os.environ.pop("INSPECTION_EVIDENCE_KEY", None)
    with pytest.raises(EvidenceKeyError, match="no evidence key"):
        RecorderNode(context=ros_context, parameter_overrides=_params(tmp_path, key_file=""))
    generate_key_file(tmp_path / "open")
    os.chmod(tmp_path / "open", 0o640)
    with pytest.raises(EvidenceKeyError, match="chmod 600"):
        RecorderNode(
            context=ros_context,
            parameter_overrides=_params(tmp_path, key_file=str(tmp_path / "open")),
        )


def test_demo_can_create_its_key(tmp_path: Path, ros_context) -> None:
    key = tmp_path / "keys" / "evidence.key"
    params = _params(tmp_path, key_file=str(key), create_key_if_missing=True)
    RecorderNode(context=ros_context, parameter_overrides=params).destroy_node()
    assert (key.stat().st_mode & 0o777) == 0o600 and len(load_key(key)) == 32
