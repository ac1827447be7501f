"""The anomaly model registry: entries per directory, the active version per lineage."""

import json
from pathlib import Path

import pytest
from helpers.manifests import manifest

from inspection_nodes.core.anomaly.artifact import ArtifactError
from inspection_nodes.core.anomaly.registry import (
    find_version,
    read_registry,
    set_active,
    update_registry,
)


def test_registry_adds_and_replaces(tmp_path: Path) -> None:
    reg = tmp_path / "models" / "registry.json"
    update_registry(reg, tmp_path / "models" / "a", manifest())
    update_registry(reg, tmp_path / "models" / "a", manifest(model_version="v2"))
    update_registry(reg, tmp_path / "models" / "b", manifest())
    models = json.loads(reg.read_text())["models"]
    assert [(m["path"], m["model_version"]) for m in models] == [("a", "v2"), ("b", "v1")]
    assert models[1]["lineage"] == "v1" and models[1]["dataset_hash"] == "ab"
    assert models[1]["metrics"]["bank_size"] == 10 and models[1]["method"] == "patchcore"


def test_active_version_is_kept_per_lineage(tmp_path: Path) -> None:
    reg = tmp_path / "registry.json"
    parent = manifest()
    child = manifest(model_version="v2", parent_version="v1", lineage="v1")
    update_registry(reg, tmp_path / "m", parent)
    update_registry(reg, tmp_path / "m.r1", child)
    set_active(reg, tmp_path / "m.r1", child)
    assert read_registry(reg)["active"] == {"v1": "m.r1"}
    assert find_version(reg, "v2") == tmp_path / "m.r1" and find_version(reg, "v9") is None
    with pytest.raises(ArtifactError, match="register it first"):
        set_active(reg, tmp_path / "other", parent)


def test_missing_or_corrupt_registry_reads_empty(tmp_path: Path) -> None:
    assert read_registry(tmp_path / "none.json") == {"models": [], "active": {}}
    (tmp_path / "bad.json").write_text("{")
    assert read_registry(tmp_path / "bad.json") == {"models": [], "active": {}}
