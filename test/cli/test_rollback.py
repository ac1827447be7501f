"""`inspection rollback`: the parent of a recalibrated version is active again; an original
enrollment has nothing to roll back to (exit 2, no traceback)."""

import json
from pathlib import Path

from helpers.manifests import manifest

from inspection_nodes.cli.main import main
from inspection_nodes.core.anomaly.registry import read_registry, set_active, update_registry


def _model(path: Path, m) -> Path:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps(m.to_dict()))
    return path


def test_rollback_activates_the_parent(tmp_path: Path, capsys):
    parent_m = manifest()
    child_m = manifest(model_version="v2", parent_version="v1", lineage="v1")
    parent = _model(tmp_path / "bottle", parent_m)
    child = _model(tmp_path / "bottle.r1", child_m)
    registry = tmp_path / "registry.json"
    update_registry(registry, parent, parent_m)
    update_registry(registry, child, child_m)
    set_active(registry, child, child_m)
    assert main(["rollback", "--model", str(child)]) == 0
    assert read_registry(registry)["active"] == {"v1": "bottle"}
    assert "active again" in capsys.readouterr().out
    assert main(["rollback", "--model", str(parent)]) == 2
    err = capsys.readouterr().err
    assert "original enrollment" in err and "Traceback" not in err
