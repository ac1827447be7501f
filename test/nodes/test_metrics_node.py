"""metrics node with real rclpy: what the cell publishes becomes Prometheus series on /metrics;
and a real Prometheus (Debian's /usr/bin/prometheus) on loopback scrapes a running cell and
answers a latency quantile through its HTTP API."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
import rclpy
import yaml
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from helpers.cli import start_inspection
from helpers.dashboards import dashboard_queries
from helpers.ros import executor_of, node_with, spin_until
from helpers.station import free_port, station_config
from prometheus_client.parser import text_string_to_metric_families

from inspection_msgs.msg import ActuatorEvent, StabilityComponent, StabilityReport, Verdict
from inspection_nodes.nodes.convert import timing
from inspection_nodes.nodes.metrics_node import MetricsNode
from inspection_nodes.nodes.qos import RESULT_QOS, STATUS_QOS

PROMETHEUS = "/usr/bin/prometheus"


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_verdicts_events_stability_and_diagnostics_become_series(ros_context):
    port = free_port()
    node = node_with(MetricsNode, ros_context, port=port)
    probe = rclpy.create_node("probe", context=ros_context)
    executor = executor_of(ros_context, node, probe)
    try:
        verdicts = probe.create_publisher(Verdict, "verdict", RESULT_QOS)
        events = probe.create_publisher(ActuatorEvent, "actuator/event", RESULT_QOS)
        reports = probe.create_publisher(StabilityReport, "stability", STATUS_QOS)
        diagnostics = probe.create_publisher(DiagnosticArray, "diagnostics", 10)
        assert spin_until(executor, lambda: verdicts.get_subscription_count() > 0)
        failed = Verdict(unit_id="u1", decision=Verdict.FAIL, decided_at_ms=42.0)
        failed.reasons = ["score: 4.2 > 3", "rejected by roi: blank frame"]
        failed.timings = [timing("embedding", 8.0), timing("scoring", 3.0)]
        verdicts.publish(failed)
        verdicts.publish(Verdict(unit_id="u2", decision=Verdict.PASS, decided_at_ms=20.0))
        events.publish(
            ActuatorEvent(
                outcome=ActuatorEvent.FIRED, scheduled_delay_ms=500.0, timing_error_ms=0.4
            )
        )
        events.publish(ActuatorEvent(outcome=ActuatorEvent.LATE))
        report = StabilityReport(index=0.7, level=StabilityReport.WATCH, rhythm_alert=True)
        report.components = [StabilityComponent(name="luminance", value=0.07, normalised=0.7)]
        reports.publish(report)
        bridge = DiagnosticStatus(name="bridge", level=DiagnosticStatus.WARN)
        bridge.values = [KeyValue(key="outbox_depth", value="12"), KeyValue(key="acked", value="3")]
        bridge.values.append(KeyValue(key="process_cpu_s", value="1.5"))
        diagnostics.publish(DiagnosticArray(status=[bridge]))
        assert spin_until(
            executor, lambda: node.health.counters.get("stability_reports") == 1 and
            node.health.counters.get("actuator_events") == 2 and
            node.health.counters.get("verdicts") == 2,
        )  # fmt: skip
        assert spin_until(executor, lambda: ("inspection_outbox_depth", ()) in scrape(port), 5.0)
        got = scrape(port)
    finally:
        node.destroy_node()
        probe.destroy_node()
    assert got["inspection_verdicts_total", (("decision", "FAIL"),)] == 1
    assert got["inspection_verdicts_total", (("decision", "PASS"),)] == 1
    assert got["inspection_rejections_total", (("reason", "score"),)] == 1
    assert got["inspection_rejections_total", (("reason", "rejected_by_roi"),)] == 1
    assert got["inspection_camera_to_verdict_seconds_count", ()] == 2
    assert got["inspection_camera_to_verdict_seconds_sum", ()] == pytest.approx(0.062)
    assert got["inspection_stage_latency_seconds_count", (("stage", "embedding"),)] == 1
    assert got["inspection_camera_to_reject_seconds_sum", ()] == pytest.approx(0.5004)
    assert got["inspection_actuator_timing_error_seconds_count", ()] == 1
    assert got["inspection_actuator_events_total", (("outcome", "late"),)] == 1
    assert got["inspection_actuator_events_total", (("outcome", "missed"),)] == 0
    assert got["inspection_stability_index", ()] == pytest.approx(0.7)
    assert got["inspection_stability_component", (("component", "luminance"),)] == pytest.approx(
        0.7
    )
    assert got["inspection_rhythm_alert", ()] == 1
    assert got["inspection_outbox_depth", ()] == 12
    assert got["inspection_node_cpu_seconds_total", (("node", "bridge"),)] == 1.5
    assert got["inspection_node_events", (("counter", "acked"), ("node", "bridge"))] == 3
    assert got["inspection_node_health_level", (("node", "bridge"),)] == 1


def prometheus_query(port: int, query: str) -> list:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    answer = json.loads(urllib.request.urlopen(url, timeout=5).read())
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


@pytest.mark.launch
def test_a_real_prometheus_scrapes_the_running_cell_and_answers_a_latency_quantile(
    tmp_path, tiny_model, bottle_subset
):
    if not os.path.exists(PROMETHEUS):
        pytest.skip("Debian prometheus is not installed (scripts/setup_env.sh installs it)")
    metrics_port, prometheus_port = free_port(), free_port()
    config = station_config(
        tmp_path, tiny_model, bottle_subset / "test",
        nodes=["camera", "roi", "embedding", "scoring", "gate", "actuator", "metrics"],
    )  # fmt: skip
    params = yaml.safe_load(config.read_text())
    params["/**/metrics"] = {"ros__parameters": {"port": metrics_port}}
    params["/**/camera"]["ros__parameters"].update(loop=True, rate_hz=5.0)
    config.write_text(yaml.safe_dump(params))
    scrape_config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "cell", "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]}
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(scrape_config))
    shutil.rmtree(tmp_path / "tsdb", ignore_errors=True)
    prometheus = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    runner = start_inspection("run", "--config", str(config))
    buckets = "rate(inspection_camera_to_verdict_seconds_bucket[30s])"
    quantile = f"histogram_quantile(0.5, sum by (le) ({buckets}))"
    result: list = []
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and not result:
            assert runner.poll() is None and prometheus.poll() is None
            time.sleep(2.0)
            try:
                result = [
                    r for r in prometheus_query(prometheus_port, quantile) if r["value"][1] != "NaN"
                ]
            except OSError:
                continue  # Prometheus still starting
        targets = prometheus_query(prometheus_port, 'up{job="cell"}')
        fired = prometheus_query(prometheus_port, "inspection_verdicts_total")
        # every panel of the Grafana dashboard is valid PromQL for this Prometheus
        answered = {expr: prometheus_query(prometheus_port, expr) for expr in dashboard_queries()}
    finally:
        runner.send_signal(signal.SIGINT)
        output, _ = runner.communicate(timeout=60)
        prometheus.send_signal(signal.SIGTERM)
        prometheus.communicate(timeout=30)
    assert result, output[-3000:]
    p50 = float(result[0]["value"][1])
    assert 0.0 < p50 < 2.5  # a real quantile of the cell's camera -> verdict times
    assert targets and targets[0]["value"][1] == "1"
    assert sum(float(r["value"][1]) for r in fired) > 0
    assert answered["sum by (decision) (rate(inspection_verdicts_total[1m]))"]
    assert runner.returncode == 0, output[-3000:]
