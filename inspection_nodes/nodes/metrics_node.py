"""metrics: the cell's KPIs on one Prometheus `/metrics` endpoint (core/metrics/exporter.py).

Listens to what the cell publishes anyway (verdicts, actuator events, stability reports, every
node's diagnostics) and serves it on `address`:`port` (loopback by default; the plant's
Prometheus scrapes one target per cell). Nothing in the gate path waits for it.
"""

from __future__ import annotations

from enum import StrEnum

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node

from inspection_msgs.msg import ActuatorEvent, StabilityReport, Verdict
from inspection_nodes.core.common.health import HealthLevel
from inspection_nodes.core.metrics.exporter import (
    ActuatorSample,
    CellMetrics,
    NodeStatus,
    StabilitySample,
    VerdictSample,
)
from inspection_nodes.nodes.common import Health, ParamSpec, declare_parameters, run_node
from inspection_nodes.nodes.convert import timings_dict
from inspection_nodes.nodes.msg_json import OUTCOMES, diagnostics_bodies
from inspection_nodes.nodes.qos import RESULT_QOS, STATUS_QOS, overridable

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "address",
        "127.0.0.1",
        "address of the /metrics endpoint (0.0.0.0 for a plant network)",
        read_only=True,
    ),
    ParamSpec("port", 9464, "port of the /metrics endpoint", range=(1, 65535), read_only=True),
)


class MetricsCounter(StrEnum):
    VERDICTS = "verdicts"
    ACTUATOR_EVENTS = "actuator_events"
    STABILITY_REPORTS = "stability_reports"


class MetricsNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__("metrics", **kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        self.health = Health(self, MetricsCounter)
        self.metrics = CellMetrics()
        self._server, _thread = self.metrics.serve(self.params["address"], self.params["port"])
        qos = overridable()
        for msg_type, topic, callback, profile in (
            (Verdict, "verdict", self._on_verdict, RESULT_QOS),
            (ActuatorEvent, "actuator/event", self._on_actuator, RESULT_QOS),
            (StabilityReport, "stability", self._on_stability, STATUS_QOS),
            (DiagnosticArray, "diagnostics", self._on_diagnostics, 50),
        ):
            self.create_subscription(msg_type, topic, callback, profile, qos_overriding_options=qos)
        where = f"http://{self.params['address']}:{self.params['port']}/metrics"
        self.health.set_status(HealthLevel.OK, f"serving {where}")
        self.get_logger().info(f"Prometheus metrics on {where}")

    def _on_verdict(self, msg: Verdict) -> None:
        self.health.counters.inc(MetricsCounter.VERDICTS)
        self.metrics.observe_verdict(
            VerdictSample(
                decision="PASS" if msg.decision == Verdict.PASS else "FAIL",
                reasons=list(msg.reasons),
                camera_to_verdict_ms=float(msg.decided_at_ms),
                stages_ms=timings_dict(msg.timings),
            )
        )

    def _on_actuator(self, msg: ActuatorEvent) -> None:
        self.health.counters.inc(MetricsCounter.ACTUATOR_EVENTS)
        self.metrics.observe_actuator(
            ActuatorSample(
                outcome=OUTCOMES.get(msg.outcome, "MISSED").lower(),
                scheduled_delay_ms=float(msg.scheduled_delay_ms),
                timing_error_ms=float(msg.timing_error_ms),
            )
        )

    def _on_stability(self, msg: StabilityReport) -> None:
        self.health.counters.inc(MetricsCounter.STABILITY_REPORTS)
        self.metrics.observe_stability(
            StabilitySample(
                index=float(msg.index),
                level=int(msg.level),
                components={c.name: float(c.normalised) for c in msg.components},
                rhythm_alert=bool(msg.rhythm_alert),
                rhythm_period_s=float(msg.rhythm_period_s),
                rhythm_missing_units=int(msg.rhythm_missing_units),
                rhythm_stops=int(msg.rhythm_stops),
            )
        )

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for body in diagnostics_bodies(msg):
            self.metrics.observe_node(NodeStatus(body["node"], body["level"], body["values"]))

    def destroy_node(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        super().destroy_node()


def main(args: list[str] | None = None) -> None:
    run_node(MetricsNode, args)
