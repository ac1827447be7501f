"""GateNode in-process: verdicts with reasons, deadline FAIL, rejections, audited threshold
service, heartbeat, bad config."""

from __future__ import annotations

import json
import time

import pytest
import rclpy
from helpers.ros import Collector, spin_until
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from std_msgs.msg import Header

from inspection_msgs.msg import AnomalyResult, CaptureEvent, StageTiming, UnitRejection, Verdict
from inspection_msgs.srv import SetThreshold
from inspection_nodes.nodes.convert import ns_to_stamp
from inspection_nodes.nodes.gate_node import GateNode
from inspection_nodes.nodes.qos import RESULT_QOS


@pytest.fixture
def cell(ros_context, tmp_path):
    nodes = []

    def make(**params):
        params.setdefault("audit_path", str(tmp_path / "audit.log"))
        overrides = [Parameter(k, value=v) for k, v in params.items()]
        gate = GateNode(context=ros_context, parameter_overrides=overrides)
        test = rclpy.create_node("gate_test", context=ros_context)
        verdicts, beats = Collector(), Collector()
        test.create_subscription(Verdict, "verdict", verdicts, RESULT_QOS)
        test.create_subscription(Header, "gate/heartbeat", beats, RESULT_QOS)
        pubs = {
            "unit": test.create_publisher(CaptureEvent, "camera/unit", RESULT_QOS),
            "result": test.create_publisher(AnomalyResult, "anomaly/result", RESULT_QOS),
            "reject": test.create_publisher(UnitRejection, "rejections", RESULT_QOS),
        }
        client = test.create_client(SetThreshold, "gate/set_threshold")
        executor = SingleThreadedExecutor(context=ros_context)
        executor.add_node(gate)
        executor.add_node(test)
        nodes.extend([gate, test])
        assert spin_until(executor, lambda: pubs["result"].get_subscription_count() > 0, 5.0)
        return gate, executor, pubs, verdicts, beats, client

    yield make
    for node in nodes:
        node.destroy_node()


def stamped(msg, stamp_ns: int, unit_id: str):
    msg.header.stamp = ns_to_stamp(stamp_ns)
    msg.unit_id = unit_id
    return msg


def result(stamp_ns: int, unit_id: str, score: float) -> AnomalyResult:
    msg = AnomalyResult(model_version="m1", score=score, image_threshold=2.0, largest_region_px=9)
    msg.timings = [StageTiming(stage="scoring", latency_ms=4.0)]
    return stamped(msg, stamp_ns, unit_id)


def test_pass_and_fail_verdicts_carry_reasons_versions_timings(cell):
    gate, executor, pubs, verdicts, beats, _ = cell()
    now = time.time_ns()
    pubs["unit"].publish(stamped(CaptureEvent(source="a.png"), now, "u1"))
    pubs["result"].publish(result(now, "u1", 1.0))
    pubs["result"].publish(result(now + 1, "u2", 2.5))
    assert spin_until(executor, lambda: len(verdicts.messages) == 2)
    ok, bad = sorted(verdicts.messages, key=lambda v: v.unit_id)
    assert ok.decision == Verdict.PASS and ok.source == "a.png" and ok.reasons == []
    assert bad.decision == Verdict.FAIL and bad.reasons == ["score: 2.5 > 2"]
    assert bad.model_version == "m1" and bad.config_version == gate.gate.config.version
    assert [t.stage for t in bad.timings] == ["scoring", "gate"] and bad.decided_at_ms >= 0
    assert spin_until(executor, lambda: len(beats.messages) >= 2, 2.0)
    assert beats.messages[-1].frame_id == gate.gate.config.version


def test_missing_result_fails_at_deadline_and_rejection_fails(cell):
    _, executor, pubs, verdicts, _, _ = cell(deadline_ms=50.0)
    now = time.time_ns()
    pubs["unit"].publish(stamped(CaptureEvent(), now, "late"))
    pubs["reject"].publish(stamped(UnitRejection(stage="roi", reason="blank"), now + 1, "rej"))
    assert spin_until(executor, lambda: len(verdicts.messages) == 2, 3.0)
    by_id = {v.unit_id: v for v in verdicts.messages}
    assert by_id["late"].decision == Verdict.FAIL
    assert by_id["late"].reasons == ["deadline: no anomaly result after 50 ms"]
    assert by_id["late"].decided_at_ms < 60
    assert by_id["rej"].reasons == ["rejected by roi: blank"]


def test_threshold_change_is_audited_and_applied(cell, tmp_path):
    _, executor, pubs, verdicts, _, client = cell()
    assert client.wait_for_service(timeout_sec=5.0)

    def call(**fields):
        future = client.call_async(SetThreshold.Request(**fields))
        assert spin_until(executor, future.done, 5.0)
        return future.result()

    refused = call(name="score_threshold", value=3.0, requested_by="", reason="x")
    assert not refused.success and "requested_by" in refused.message
    refused = call(name="deadline_ms", value=3.0, requested_by="qe", reason="x")
    assert not refused.success and "not a tunable threshold" in refused.message
    reply = call(name="score_threshold", value=3.0, requested_by="qe-anna", reason="new lot")
    assert reply.success and reply.old_value == 0.0
    [entry] = [json.loads(line) for line in (tmp_path / "audit.log").read_text().splitlines()]
    assert entry["kind"] == "threshold_change" and entry["actor"] == "qe-anna"
    assert entry["payload"]["old"] == 0.0 and entry["payload"]["new"] == 3.0
    pubs["result"].publish(result(time.time_ns(), "u9", 2.5))
    assert spin_until(executor, lambda: len(verdicts.messages) == 1)
    assert verdicts.messages[0].decision == Verdict.PASS
    assert verdicts.messages[0].config_version == entry["payload"]["new_config_version"]


def test_bad_config_rejected_at_start_up(ros_context, tmp_path):
    with pytest.raises(ValueError, match="fail_views_required=3 must be in"):
        GateNode(
            context=ros_context,
            parameter_overrides=[
                Parameter("fail_views_required", value=3),
                Parameter("audit_path", value=str(tmp_path / "a.log")),
            ],
        )
