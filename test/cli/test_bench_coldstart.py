"""`inspection bench coldstart` on the tiny model: one run over three units reports the start ->
first frame -> first verdict chain from the cell's own stamps, and the warm reference."""

from __future__ import annotations

import json

import pytest

from inspection_nodes.cli.main import main

pytestmark = pytest.mark.launch


def test_coldstart_reports_start_to_first_verdict(tiny_model, bottle_subset, tmp_path):
    out = tmp_path / "coldstart.json"
    args = ["bench", "coldstart", "--model", str(tiny_model), "--images", str(bottle_subset)]
    assert main([*args, "--runs", "1", "--units", "3", "--json", str(out)]) == 0
    [run] = json.loads(out.read_text())["runs"]
    assert run["start_to_first_frame_ms"] > 0 and run["first_frame_to_verdict_ms"] > 0
    assert run["start_to_first_verdict_ms"] == pytest.approx(
        run["start_to_first_frame_ms"] + run["first_frame_to_verdict_ms"], abs=0.2
    )
    assert run["warm_p50_ms"] > 0 and "embedding" in run["first_stages_ms"]


def test_coldstart_needs_a_second_unit(tiny_model, bottle_subset, capsys):
    args = ["bench", "coldstart", "--model", str(tiny_model), "--images", str(bottle_subset)]
    assert main([*args, "--units", "1"]) == 2
