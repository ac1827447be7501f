"""`inspection cell` runs the real graph as processes over a folder once and reports every
verdict; a missing model is refused before anything starts."""

import json
from pathlib import Path

import pytest
from helpers.cli import run_inspection
from helpers.station import station_config

pytestmark = pytest.mark.launch


def test_every_image_gets_one_verdict_and_a_report(tmp_path, tiny_model, bottle_subset):
    config = station_config(tmp_path, tiny_model, bottle_subset / "test")
    report = tmp_path / "report.json"
    args = ["cell", "--model", str(tiny_model), "--images", str(bottle_subset / "test")]
    result = run_inspection(
        *args,
        "--config",
        str(config),
        "--json",
        str(report),
        "--heatmaps",
        str(tmp_path / "h"),
        "--quiet",
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    summary = json.loads(report.read_text())
    assert summary["units"] == summary["expected_units"] == 4 and summary["duplicate_verdicts"] == 0
    assert sum(summary["confusion"].values()) == 4
    assert {Path(v["image"]).parent.name for v in summary["verdicts"]} == {"good", "broken_large"}
    assert summary["heatmaps_written"] == len(list((tmp_path / "h").glob("*.png"))) > 0


def test_a_missing_model_or_empty_folder_is_refused(tmp_path: Path, bottle_subset):
    images = str(bottle_subset / "test")
    result = run_inspection("cell", "--model", str(tmp_path / "none"), "--images", images)
    assert result.returncode == 2 and "no model at" in result.stdout
    result = run_inspection("cell", "--model", str(tmp_path), "--images", str(tmp_path))
    assert result.returncode == 2 and "no images" in result.stdout
