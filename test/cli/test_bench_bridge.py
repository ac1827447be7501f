"""The bridge benchmark's scenario at a small size: broker outage plus kill -9 of the bridge
process, nothing lost, every first delivery in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspection_nodes.cli.bench_bridge import run_bench
from inspection_nodes.loopback.mosquitto import mosquitto_binary


def test_outage_and_bridge_kill_lose_nothing(tmp_path: Path) -> None:
    if mosquitto_binary() is None:
        pytest.skip("mosquitto not installed (apt-get install mosquitto)")
    result = run_bench(n=400, outage_s=2.0, rate=100.0, workdir=tmp_path)
    assert result["bridge_kills"] == 1
    assert result["verdicts_during_outage"] >= 150
    assert result["lost"] == 0, result
    assert result["received_unique"] == 400
    assert result["out_of_order"] == 0
    assert result["max_queue"] >= 150
    assert result["drain_s"] is not None
