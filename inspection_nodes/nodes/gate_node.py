"""gate: deterministic PASS/FAIL per unit with fail-safe deadlines (rules in core/gate/gate.py)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

from rclpy.node import Node
from std_msgs.msg import Header

from inspection_msgs.msg import AnomalyResult, CaptureEvent, Detections, UnitRejection, Verdict
from inspection_msgs.srv import SetThreshold
from inspection_nodes.core.common.health import HealthLevel
from inspection_nodes.core.evidence.audit import AuditLog
from inspection_nodes.core.gate.gate import Decision, Gate, GateCounter, failsafe_decision
from inspection_nodes.core.gate.rules import (
    ClassRule,
    Detection,
    DetectionSet,
    GateConfig,
    ScoreResult,
    parse_recipes,
)
from inspection_nodes.core.gate.threshold_change import change_threshold
from inspection_nodes.nodes.common import (
    AUDIT_PATH,
    Health,
    ParamSpec,
    declare_parameters,
    run_node,
)
from inspection_nodes.nodes.convert import ns_to_stamp, stamp_to_ns, timing, wall_ns
from inspection_nodes.nodes.qos import RESULT_QOS, overridable


class GateNodeCounter(StrEnum):
    GATE_ERROR = "gate_error"  # an exception in the gate path (the unit FAILs)
    THRESHOLD_CHANGE_REFUSED = "threshold_change_refused"
    # UnitRejection messages by the stage that sent them (the stages that publish `rejections`)
    REJECTED_BY_CAMERA = "rejected_by_camera"
    REJECTED_BY_ROI = "rejected_by_roi"
    REJECTED_BY_EMBEDDING = "rejected_by_embedding"
    REJECTED_BY_SCORING = "rejected_by_scoring"
    REJECTED_BY_DETECTOR = "rejected_by_detector"
    REJECTED_BY_UNKNOWN = "rejected_by_unknown"  # an empty or unknown stage name


def rejection_counter(stage: str) -> GateNodeCounter:
    """The counter of a UnitRejection's stage (a bounded set of names, whatever arrives)."""
    try:
        return GateNodeCounter(f"rejected_by_{stage}")
    except ValueError:
        return GateNodeCounter.REJECTED_BY_UNKNOWN


EXPIRE_PERIOD_S = 0.005  # deadline resolution: a late unit is FAILed within 5 ms of its deadline

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "deadline_ms",
        200.0,
        "FAIL a unit with no complete result this long after capture "
        "(multi-view units: after the first view)",
        range=(1.0, 60000.0),
        read_only=True,
    ),
    ParamSpec(
        "score_threshold",
        0.0,
        "fixed image score limit, FAIL above it; 0 = the model's "
        "calibrated image_threshold x score_threshold_scale",
        range=(0.0, 1e9),
        read_only=True,
    ),
    ParamSpec(
        "score_threshold_scale",
        1.0,
        "factor on the model's calibrated image_threshold",
        range=(0.01, 100.0),
        read_only=True,
    ),
    ParamSpec(
        "min_area_px",
        0,
        "ignore an over-threshold score whose largest connected region "
        "is smaller (pixels; 0 = off)",
        range=(0, 100_000_000),
        read_only=True,
    ),
    ParamSpec(
        "min_area_mm2",
        0.0,
        "the same limit in mm^2 (needs mm_per_px; 0 = off)",
        range=(0.0, 1e9),
        read_only=True,
    ),
    ParamSpec(
        "mm_per_px",
        0.0,
        "ROI pixel size in mm, for min_area_mm2 (0 = unknown)",
        range=(0.0, 1000.0),
        read_only=True,
    ),
    ParamSpec(
        "views_per_unit",
        1,
        "views (frames sharing a unit_id) judged together",
        range=(1, 64),
        read_only=True,
    ),
    ParamSpec(
        "fail_views_required",
        1,
        "FAIL when at least this many views fail (N of M)",
        range=(1, 64),
        read_only=True,
    ),
    ParamSpec(
        "expected_model_version",
        "",
        "anomaly model version to accept; other versions FAIL ('' = any)",
        read_only=True,
    ),
    ParamSpec(
        "expected_detector_version",
        "",
        "detector model version to accept ('' = any)",
        read_only=True,
    ),
    ParamSpec(
        "require_detections",
        False,
        "wait for `detections` and apply the class rules",
        read_only=True,
    ),
    ParamSpec(
        "class_rules",
        ["*:0.5:0"],
        "detection rules 'class:min_confidence[:min_box_area_"
        "px]'; a class's own rule wins over '*'",
        read_only=True,
    ),
    ParamSpec(
        "recipe",
        "",
        "active product recipe (SOP) from recipe_overrides ('' = none)",
        read_only=True,
    ),
    ParamSpec(
        "recipe_overrides",
        [""],
        "SOP overrides 'recipe.threshold=value' (thresholds: "
        "score_threshold, score_threshold_scale, min_area_px, min_area_mm2, "
        "fail_views_required)",
        read_only=True,
    ),
    AUDIT_PATH,
    ParamSpec(
        "heartbeat_ms",
        50.0,
        "period of gate/heartbeat (the actuator's watchdog input)",
        range=(5.0, 10000.0),
        read_only=True,
    ),
)


def gate_config(p: dict) -> GateConfig:
    """Parameter values to a validated GateConfig (ValueError names the bad parameter)."""
    return GateConfig(
        deadline_ms=p["deadline_ms"],
        score_threshold=p["score_threshold"],
        score_threshold_scale=p["score_threshold_scale"],
        min_area_px=p["min_area_px"],
        min_area_mm2=p["min_area_mm2"],
        mm_per_px=p["mm_per_px"],
        views_per_unit=p["views_per_unit"],
        fail_views_required=p["fail_views_required"],
        expected_model_version=p["expected_model_version"],
        expected_detector_version=p["expected_detector_version"],
        require_detections=p["require_detections"],
        class_rules=tuple(ClassRule.parse(t) for t in p["class_rules"] if t.strip()),
        recipe=p["recipe"],
        recipes=parse_recipes(p["recipe_overrides"]),
    ).validate()


def score_result(msg: AnomalyResult) -> ScoreResult:
    return ScoreResult(
        stamp_ns=stamp_to_ns(msg.header.stamp),
        unit_id=msg.unit_id,
        model_version=msg.model_version,
        score=float(msg.score),
        image_threshold=float(msg.image_threshold),
        largest_region_px=int(msg.largest_region_px),
        timings={t.stage: t.latency_ms for t in msg.timings},
    )


def detection_set(msg: Detections) -> DetectionSet:
    def area(box) -> float:
        return max(0.0, float(box[2] - box[0])) * max(0.0, float(box[3] - box[1]))

    return DetectionSet(
        stamp_ns=stamp_to_ns(msg.header.stamp),
        unit_id=msg.unit_id,
        model_version=msg.model_version,
        detections=tuple(
            Detection(d.class_name, float(d.confidence), area(d.box_roi)) for d in msg.detections
        ),
    )


class GateNode(Node):
    """Converts messages for the core Gate and publishes its decisions; never raises."""

    def __init__(self, **kwargs) -> None:
        super().__init__("gate", **kwargs)
        params = declare_parameters(self, PARAMETERS)
        self.health = Health(self, (*GateNodeCounter, *GateCounter))
        self.gate = Gate(gate_config(params), self.health.counters)
        self.audit = AuditLog(Path(params["audit_path"]))
        self._verdicts = self.create_publisher(
            Verdict, "verdict", RESULT_QOS, qos_overriding_options=overridable()
        )
        self._heartbeat = self.create_publisher(
            Header, "gate/heartbeat", RESULT_QOS, qos_overriding_options=overridable()
        )
        subscriptions = [
            (CaptureEvent, "camera/unit", self._on_capture),
            (AnomalyResult, "anomaly/result", self._on_result),
            (UnitRejection, "rejections", self._on_rejection),
        ]
        if self.gate.config.require_detections:
            subscriptions.append((Detections, "detections", self._on_detections))
        for msg_type, topic, callback in subscriptions:
            self.create_subscription(
                msg_type, topic, callback, RESULT_QOS, qos_overriding_options=overridable()
            )
        self.create_service(SetThreshold, "gate/set_threshold", self._on_set_threshold)
        self.create_timer(EXPIRE_PERIOD_S, self._on_expire)
        self.create_timer(params["heartbeat_ms"] / 1000.0, self._on_heartbeat)
        self.health.set_status(HealthLevel.OK, f"config {self.gate.config.version}")

    def _on_capture(self, msg: CaptureEvent) -> None:
        stamp = stamp_to_ns(msg.header.stamp)
        self._run(
            stamp,
            msg.unit_id,
            lambda: self.gate.open_unit(stamp, msg.unit_id, wall_ns(), msg.source),
        )

    def _on_result(self, msg: AnomalyResult) -> None:
        self._run(
            stamp_to_ns(msg.header.stamp),
            msg.unit_id,
            lambda: self.gate.add_result(score_result(msg), wall_ns()),
        )

    def _on_detections(self, msg: Detections) -> None:
        self._run(
            stamp_to_ns(msg.header.stamp),
            msg.unit_id,
            lambda: self.gate.add_detections(detection_set(msg), wall_ns()),
        )

    def _on_rejection(self, msg: UnitRejection) -> None:
        stamp = stamp_to_ns(msg.header.stamp)
        self.health.counters.inc(rejection_counter(msg.stage))
        self._run(
            stamp,
            msg.unit_id,
            lambda: self.gate.add_rejection(stamp, msg.unit_id, msg.stage, msg.reason, wall_ns()),
        )

    def _on_expire(self) -> None:
        self._run(None, "", lambda: self.gate.expire(wall_ns()))

    def _on_heartbeat(self) -> None:
        header = Header(stamp=ns_to_stamp(wall_ns()), frame_id=self.gate.config.version)
        self._heartbeat.publish(header)

    def _run(self, stamp_ns: int | None, unit_id: str, step: Callable[[], list[Decision]]) -> None:
        """Run one gate step and publish its decisions; an exception FAILs the unit."""
        started = time.perf_counter()
        try:
            decisions = step()
        except Exception as exc:  # any error in the gate path is a FAIL, never a PASS
            self.health.reject(GateNodeCounter.GATE_ERROR, f"{type(exc).__name__}: {exc}")
            if stamp_ns is None:
                return
            decisions = self._fail(stamp_ns, unit_id, f"gate error: {type(exc).__name__}: {exc}")
        gate_ms = (time.perf_counter() - started) * 1000.0
        for decision in decisions:
            self._publish(decision, gate_ms)

    def _fail(self, stamp_ns: int, unit_id: str, reason: str) -> list[Decision]:
        try:
            return self.gate.fail(stamp_ns, unit_id, reason, wall_ns())
        except Exception:  # the gate itself is broken: decide without it
            return [failsafe_decision(stamp_ns, unit_id, reason, wall_ns())]

    def _publish(self, d: Decision, gate_ms: float) -> None:
        msg = Verdict(
            unit_id=d.unit_id,
            source=d.source,
            decision=Verdict.PASS if d.passed else Verdict.FAIL,
            reasons=list(d.reasons),
            score=d.score,
            image_threshold=d.image_threshold,
            model_version=d.model_version,
            config_version=d.config_version,
            decided_at_ms=(d.decided_ns - d.stamp_ns) / 1e6,
            timings=[timing(k, v) for k, v in d.timings.items()] + [timing("gate", gate_ms)],
        )
        msg.header.stamp = ns_to_stamp(d.stamp_ns)
        self._verdicts.publish(msg)

    def _on_set_threshold(
        self, request: SetThreshold.Request, response: SetThreshold.Response
    ) -> SetThreshold.Response:
        """Change a threshold in force; the audit entry is on disk before the change applies."""
        config = self.gate.config
        try:
            response.old_value = config.value(request.name)
            change = change_threshold(
                config, request.name, request.value, request.requested_by, request.reason
            )
            body = change.audit_body(self.get_fully_qualified_name())
            self.audit.append("threshold_change", body, actor=request.requested_by)
            self.gate.set_config(change.config)
        except (ValueError, OSError) as exc:
            response.success, response.message = False, str(exc)
            self.health.reject(GateNodeCounter.THRESHOLD_CHANGE_REFUSED, str(exc))
            return response
        response.success = True
        response.message = f"{request.name} = {change.new_value:g}, config {change.config.version}"
        self.get_logger().info(
            f"threshold {request.name}: {response.old_value:g} -> {request.value:g} "
            f"by {request.requested_by} ({request.reason})"
        )
        return response


def main(args: list[str] | None = None) -> None:
    try:
        run_node(GateNode, args)
    except ValueError as exc:
        sys.exit(f"gate: bad configuration: {exc}")
