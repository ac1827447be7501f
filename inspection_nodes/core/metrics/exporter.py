"""The cell's KPIs as Prometheus metrics: one registry, one endpoint for the whole cell.

One endpoint per cell is what a plant's Prometheus scrapes most easily (one target per station,
no service discovery of node processes), so a single metrics node listens to what the cell
already publishes (verdicts, actuator events, stability reports, every node's diagnostics) and
feeds `CellMetrics`, typed inputs only. Exported (all names start with `inspection_`):

  stage_latency_seconds{stage}        histogram, per-stage times carried by each Verdict
  camera_to_verdict_seconds           histogram, the gate's decision time since capture
  camera_to_reject_seconds            histogram, capture to the reject edge (FIRED events)
  verdicts_total{decision}            counter
  rejections_total{reason}            counter, FAIL reasons by rule (core/metrics/reasons.py)
  actuator_events_total{outcome}      counter: fired, late, missed, duplicate, skipped
  actuator_timing_error_seconds       histogram of |edge time - due time| of FIRED pulses
  stability_index, stability_level    gauges; stability_component{component} gauge
  rhythm_alert, rhythm_period_seconds gauges; rhythm_missing_units, rhythm_stops gauges
  outbox_depth, outbox_dropped        gauges from the bridge's diagnostics
  node_cpu_seconds_total{node}        counter, CPU of the node's process (from diagnostics)
  node_events{node, counter}          gauge, every declared counter of every node
  node_health_level{node}             gauge, 0 OK, 1 WARN, 2 ERROR, 3 STALE

The latency buckets span 1 ms to 2.5 s (a Jetson unit takes tens of ms, the 2-core dev CPU
up to a second at its deadline); the timing-error buckets 0.1 to 50 ms.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from inspection_nodes.core.metrics.reasons import reason_label

PREFIX = "inspection"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3)
LATENCY_BUCKETS += (0.5, 0.75, 1.0, 1.5, 2.5)
TIMING_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
CPU_GAUGE = "process_cpu_s"  # nodes/common.Health's gauge
OUTBOX_GAUGES = {"outbox_depth": "outbox_depth", "outbox_dropped": "outbox_dropped"}


@dataclass(frozen=True)
class VerdictSample:
    decision: str  # "PASS" | "FAIL"
    reasons: Sequence[str]
    camera_to_verdict_ms: float
    stages_ms: Mapping[str, float]


@dataclass(frozen=True)
class ActuatorSample:
    outcome: str  # "fired" | "late" | "missed" | "duplicate" | "skipped"
    scheduled_delay_ms: float
    timing_error_ms: float


@dataclass(frozen=True)
class StabilitySample:
    index: float
    level: int
    components: Mapping[str, float]  # normalised values
    rhythm_alert: bool
    rhythm_period_s: float
    rhythm_missing_units: int
    rhythm_stops: int


@dataclass(frozen=True)
class NodeStatus:
    """One node's latest diagnostics: level, counters and gauges (values as published)."""

    node: str
    level: int
    values: Mapping[str, str] = field(default_factory=dict)


class NodeStatusCollector(Collector):
    """Series derived from the latest diagnostics of each node, computed at scrape time."""

    def __init__(self) -> None:
        self._latest: dict[str, NodeStatus] = {}
        self._lock = threading.Lock()

    def update(self, status: NodeStatus) -> None:
        with self._lock:
            self._latest[status.node] = status

    def collect(self) -> Iterator:
        with self._lock:
            latest = list(self._latest.values())
        cpu = CounterMetricFamily(
            f"{PREFIX}_node_cpu_seconds", "CPU seconds of the node's process", labels=["node"]
        )
        events = GaugeMetricFamily(
            f"{PREFIX}_node_events", "declared counters of every node", labels=["node", "counter"]
        )
        level = GaugeMetricFamily(
            f"{PREFIX}_node_health_level", "diagnostics level: 0 OK .. 3 STALE", labels=["node"]
        )
        outbox = {
            name: GaugeMetricFamily(f"{PREFIX}_{name}", f"bridge {name.replace('_', ' ')}")
            for name in OUTBOX_GAUGES.values()
        }
        for status in latest:
            level.add_metric([status.node], status.level)
            for key, text in status.values.items():
                value = _number(text)
                if value is None:
                    continue
                if key == CPU_GAUGE:
                    cpu.add_metric([status.node], value)
                elif key in OUTBOX_GAUGES:
                    outbox[OUTBOX_GAUGES[key]].add_metric([], value)
                else:
                    events.add_metric([status.node, key], value)
        yield from (cpu, events, level, *outbox.values())


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class CellMetrics:
    """Every KPI of the cell in one registry (`registry`, served by `serve`)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r, p = self.registry, PREFIX
        self.stage = Histogram(
            f"{p}_stage_latency_seconds",
            "per-stage latency",
            ["stage"],
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.verdict_latency = Histogram(
            f"{p}_camera_to_verdict_seconds",
            "capture to gate decision",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.reject_latency = Histogram(
            f"{p}_camera_to_reject_seconds",
            "capture to reject edge",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.verdicts = Counter(f"{p}_verdicts", "verdicts", ["decision"], registry=r)
        self.rejections = Counter(f"{p}_rejections", "FAIL reasons by rule", ["reason"], registry=r)
        self.actuator = Counter(f"{p}_actuator_events", "actuator", ["outcome"], registry=r)
        self.timing_error = Histogram(
            f"{p}_actuator_timing_error_seconds",
            "|edge - due| of fired pulses",
            registry=r,
            buckets=TIMING_BUCKETS,
        )
        self.stability_index = Gauge(f"{p}_stability_index", "stability index", registry=r)
        self.stability_level = Gauge(f"{p}_stability_level", "0 ok, 1 watch, 2 recal.", registry=r)
        self.component = Gauge(
            f"{p}_stability_component", "normalised component", ["component"], registry=r
        )
        self.rhythm_alert = Gauge(
            f"{p}_rhythm_alert", "1 while the line rhythm is broken", registry=r
        )
        self.rhythm_period = Gauge(f"{p}_rhythm_period_seconds", "line period", registry=r)
        self.rhythm_missing = Gauge(f"{p}_rhythm_missing_units", "missing units", registry=r)
        self.rhythm_stops = Gauge(f"{p}_rhythm_stops", "line stops", registry=r)
        self.nodes = NodeStatusCollector()
        r.register(self.nodes)
        for outcome in ("fired", "late", "missed", "duplicate", "skipped"):
            self.actuator.labels(outcome)  # every series exists from start-up, at 0
        for decision in ("PASS", "FAIL"):
            self.verdicts.labels(decision)

    def observe_verdict(self, v: VerdictSample) -> None:
        self.verdicts.labels(v.decision).inc()
        if v.camera_to_verdict_ms > 0:
            self.verdict_latency.observe(v.camera_to_verdict_ms / 1000.0)
        for stage, ms in v.stages_ms.items():
            self.stage.labels(stage).observe(ms / 1000.0)
        if v.decision == "FAIL":
            for label in sorted({reason_label(r) for r in v.reasons} or {"other"}):
                self.rejections.labels(label).inc()

    def observe_actuator(self, a: ActuatorSample) -> None:
        self.actuator.labels(a.outcome).inc()
        if a.outcome == "fired":
            self.timing_error.observe(abs(a.timing_error_ms) / 1000.0)
            self.reject_latency.observe((a.scheduled_delay_ms + a.timing_error_ms) / 1000.0)

    def observe_stability(self, s: StabilitySample) -> None:
        self.stability_index.set(s.index)
        self.stability_level.set(s.level)
        for name, value in s.components.items():
            self.component.labels(name).set(value)
        self.rhythm_alert.set(1.0 if s.rhythm_alert else 0.0)
        self.rhythm_period.set(s.rhythm_period_s)
        self.rhythm_missing.set(s.rhythm_missing_units)
        self.rhythm_stops.set(s.rhythm_stops)

    def observe_node(self, status: NodeStatus) -> None:
        self.nodes.update(status)

    def metric_names(self) -> set[str]:
        """Every series name a scrape can return (with _bucket/_sum/_count/_total suffixes)."""
        return {sample.name for family in self.registry.collect() for sample in family.samples}

    def serve(self, address: str, port: int):
        """Start the `/metrics` HTTP endpoint (a daemon thread); returns (server, thread)."""
        from prometheus_client import start_http_server

        return start_http_server(port, addr=address, registry=self.registry)
