"""The benchmark itself, small: it kills the backend and restarts the broker mid-run and still
finds nothing lost or doubled, and measures holds (numbers are checked for shape, not speed)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from helpers.backend_services import require_services

from inspection_backend.benchmark import BenchPlan, _p99, run, write_json

pytestmark = pytest.mark.slow


def test_small_run_under_faults(tmp_path):
    require_services()
    # Outside pytest's tmp (mode 0700), which the unprivileged cluster user cannot enter.
    root = Path(tempfile.mkdtemp(prefix="inspection-bench-test-"))
    os.chmod(root, 0o755)
    workdir = root / "run"
    plan = BenchPlan(cells=2, rate=150.0, duration_s=8.0, critical_share=0.1, seed=3)
    try:
        result = run(plan, workdir, log=lambda _text: None)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert result.verdicts == 1200 and result.fails > 0 and result.criticals > 0
    assert (result.lost, result.duplicates) == (0, 0), (
        result.lost_detail,
        result.duplicates_detail,
    )
    assert result.holds_measured + result.holds_during_faults == result.criticals
    assert 0 < result.hold_p50_ms <= result.hold_p99_ms
    assert result.ingest_per_s > 0 and result.peak_rss_mb > 0
    write_json(result, tmp_path / "b.json")
    assert json.loads((tmp_path / "b.json").read_text())["lost"] == 0


def test_nearest_rank_p99():
    assert _p99([]) == 0.0
    assert _p99([5.0]) == 5.0
    assert _p99(list(range(1, 101))) == 99
    assert _p99(list(range(1, 11))) == 10
