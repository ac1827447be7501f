"""`inspection replay`: a recorded bag replayed through the cell gives identical verdicts, and a
different model is detected."""

import json
import shutil

import pytest
from helpers.cli import run_inspection
from helpers.recording import record_subset

pytestmark = pytest.mark.launch


def test_record_then_replay_gives_identical_verdicts(tmp_path, tiny_model, bottle_subset):
    config, bag = record_subset(tmp_path, tiny_model, bottle_subset)
    rep = run_inspection(
        "replay", str(bag), "--model", str(tiny_model), "--config", str(config), "--quiet"
    )
    assert rep.returncode == 0, rep.stdout[-2000:] + rep.stderr[-2000:]
    assert "replayed 4 of 4 units: identical" in rep.stdout


def test_replay_detects_a_different_model(tmp_path, tiny_model, bottle_subset):
    """The comparison can fail: a bag replayed against another model's thresholds differs."""
    config, bag = record_subset(tmp_path, tiny_model, bottle_subset)
    other = tmp_path / "other_model"
    shutil.copytree(tiny_model, other)
    thresholds = json.loads((other / "thresholds.json").read_text())
    thresholds["image"] *= 0.5
    (other / "thresholds.json").write_text(json.dumps(thresholds))
    rep = run_inspection(
        "replay", str(bag), "--model", str(other), "--config", str(config), "--quiet"
    )
    assert rep.returncode == 1 and "DIFF" in rep.stdout, rep.stdout[-2000:]
