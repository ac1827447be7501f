"""Regression by bag: record a short run on real images, replay it, verdicts must be identical."""

import json
import shutil

import pytest
from helpers.cli import run_inspection
from helpers.station import station_config

from inspection_nodes.core.io.bags import read_messages

pytestmark = pytest.mark.launch

CELL_NODES = ["camera", "roi", "embedding", "scoring", "gate"]


def _record(tmp_path, model, subset):
    """Record the bottle subset through the cell; returns the station config and the bag."""
    config = station_config(tmp_path, model, subset / "test", nodes=CELL_NODES)
    bag = tmp_path / "run.mcap.d"
    rec = run_inspection(
        "record",
        "--model",
        str(model),
        "--images",
        str(subset / "test"),
        "--config",
        str(config),
        "--out",
        str(bag),
        "--quiet",
    )
    assert rec.returncode == 0, rec.stdout[-2000:] + rec.stderr[-2000:]
    return config, bag


def test_record_then_replay_gives_identical_verdicts(tmp_path, tiny_model, bottle_subset):
    config, bag = _record(tmp_path, tiny_model, bottle_subset)
    images = read_messages(bag, "camera/image_raw")
    verdicts = read_messages(bag, "verdict")
    assert len(images) == 4 and len(verdicts) == 4
    rep = run_inspection(
        "replay", str(bag), "--model", str(tiny_model), "--config", str(config), "--quiet"
    )
    assert rep.returncode == 0, rep.stdout[-2000:] + rep.stderr[-2000:]
    assert "replayed 4 of 4 units: identical" in rep.stdout


def test_replay_detects_a_different_model(tmp_path, tiny_model, bottle_subset):
    """The comparison can fail: a bag replayed against another model's thresholds differs."""
    config, bag = _record(tmp_path, tiny_model, bottle_subset)
    other = tmp_path / "other_model"
    shutil.copytree(tiny_model, other)
    thresholds = json.loads((other / "thresholds.json").read_text())
    thresholds["image"] *= 0.5
    (other / "thresholds.json").write_text(json.dumps(thresholds))
    rep = run_inspection(
        "replay", str(bag), "--model", str(other), "--config", str(config), "--quiet"
    )
    assert rep.returncode == 1 and "DIFF" in rep.stdout, rep.stdout[-2000:]
