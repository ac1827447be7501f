"""`inspection recalibrate` and `inspection rollback` as a technician runs them."""

from __future__ import annotations

import json

from inspection_nodes.cli.main import main
from inspection_nodes.core.anomaly.manifest import ModelManifest
from inspection_nodes.core.anomaly.registry import read_registry


def test_recalibrate_then_roll_back(tiny_model, bottle_subset, tmp_path, capsys) -> None:
    registry, new = tmp_path / "registry.json", tmp_path / "bottle.r1"
    common = ["--registry", str(registry)]
    args = ["recalibrate", "--model", str(tiny_model), "--data", str(bottle_subset)]
    assert main([*args, "--out", str(new), "--by", "tech-anna", *common]) == 0
    out = capsys.readouterr().out
    assert "image threshold" in out and "ros2 param set /scoring model_dir" in out
    manifest = ModelManifest.from_dict(json.loads((new / "manifest.json").read_text()))
    assert manifest.recalibration.requested_by == "tech-anna"
    assert manifest.dataset.n_images == 10
    lineage = manifest.root_version
    assert read_registry(registry)["active"][lineage] == "bottle.r1"

    assert main(["rollback", "--model", str(new), *common]) == 0
    active = read_registry(registry)["active"][lineage]
    assert (registry.parent / active).resolve() == tiny_model.resolve()
    assert main(["rollback", "--model", str(tiny_model), *common]) == 2
    assert "original enrollment" in capsys.readouterr().err


def test_bad_data_is_a_clear_error_and_writes_nothing(tiny_model, tmp_path, capsys) -> None:
    out = tmp_path / "v"
    args = ["recalibrate", "--model", str(tiny_model), "--data", str(tmp_path / "missing")]
    assert main([*args, "--out", str(out), "--registry", str(tmp_path / "r.json")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "r.json").exists()
