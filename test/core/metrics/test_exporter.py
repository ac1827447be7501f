"""CellMetrics: typed samples become Prometheus series; the shipped Grafana dashboard queries
only series the cell exports."""

from __future__ import annotations

import re

from helpers.dashboards import dashboard_queries
from prometheus_client import generate_latest

from inspection_nodes.core.metrics.exporter import (
    ActuatorSample,
    CellMetrics,
    NodeStatus,
    StabilitySample,
    VerdictSample,
)


def fed() -> CellMetrics:
    """One sample of every kind, so every series exists."""
    metrics = CellMetrics()
    metrics.observe_verdict(VerdictSample("FAIL", ["score: 3 > 2"], 30.0, {"embedding": 9.0}))
    metrics.observe_actuator(ActuatorSample("fired", 500.0, -0.3))
    stability = StabilitySample(0.4, 0, {"luminance": 0.4}, False, 0.5, 1, 0)
    metrics.observe_stability(stability)
    values = {"outbox_depth": "4", "outbox_dropped": "0", "process_cpu_s": "2.0", "acked": "9"}
    metrics.observe_node(NodeStatus("bridge", 0, values))
    return metrics


def test_samples_become_series():
    text = generate_latest(fed().registry).decode()
    assert 'inspection_verdicts_total{decision="FAIL"} 1.0' in text
    assert 'inspection_rejections_total{reason="score"} 1.0' in text
    assert "inspection_actuator_timing_error_seconds_count 1.0" in text
    assert "inspection_camera_to_reject_seconds_sum 0.4997" in text
    assert 'inspection_node_cpu_seconds_total{node="bridge"} 2.0' in text
    assert "inspection_outbox_depth 4.0" in text
    assert 'inspection_node_events{counter="acked",node="bridge"} 9.0' in text


def test_a_fail_without_reasons_still_counts_and_unparsable_values_are_skipped():
    metrics = CellMetrics()
    metrics.observe_verdict(VerdictSample("FAIL", [], 0.0, {}))
    metrics.observe_node(NodeStatus("gate", 2, {"pass": "n/a"}))
    text = generate_latest(metrics.registry).decode()
    assert 'inspection_rejections_total{reason="other"} 1.0' in text
    assert "inspection_camera_to_verdict_seconds_count 0.0" in text  # no decision time: none
    assert 'counter="pass"' not in text and 'inspection_node_health_level{node="gate"} 2.0' in text


def test_every_dashboard_query_names_a_metric_the_cell_exports():
    exported = fed().metric_names()
    queries = dashboard_queries()
    assert len(queries) >= 12
    named = set()
    for expr in queries:
        names = set(re.findall(r"\binspection_[a-z_]+\b", expr))
        assert names, f"query names no cell metric: {expr}"
        assert names <= exported, f"{expr}: {names - exported} not exported"
        named |= names
    families = {n.removesuffix("_bucket").removesuffix("_total") for n in named}
    for kpi in ("camera_to_verdict", "camera_to_reject", "stage_latency", "outbox_depth"):
        assert any(kpi in f for f in families), kpi
