"""Artifact round trip, load time and registry."""

import json
import time
from pathlib import Path

import numpy as np
import pytest

from inspection_nodes.core.model_artifact import (
    ArtifactError,
    load_artifact,
    save_artifact,
    update_registry,
)
from inspection_nodes.core.patchcore import PatchCoreConfig, fit_patchcore
from inspection_nodes.core.thresholds import calibrate

MANIFEST = {
    "model_version": "v1",
    "method": "patchcore",
    "input_size": 32,
    "feature_shape": [4, 4, 8],
    "backbone": {"name": "x"},
    "dataset": {"hash": "ab"},
}


def _bank():
    feats = np.random.default_rng(0).normal(size=(3, 4, 4, 8)).astype(np.float32)
    return fit_patchcore(feats, ["a", "b", "c"], PatchCoreConfig(shallow_channels=2, search_dim=4))


def test_round_trip_is_exact_and_fast(tmp_path: Path) -> None:
    bank = _bank()
    thr = calibrate(np.array([1.0, 2.0]), np.ones(10))
    save_artifact(tmp_path / "m", MANIFEST, thr, b"onnx", patchcore=bank)
    start = time.perf_counter()
    art = load_artifact(tmp_path / "m")
    assert time.perf_counter() - start < 0.5
    assert art.thresholds == thr and art.method == "patchcore" and art.onnx_path.is_file()
    np.testing.assert_array_equal(art.patchcore.bank, bank.bank)
    np.testing.assert_array_equal(art.patchcore.sources, bank.sources)
    np.testing.assert_array_equal(art.patchcore.proj, bank.proj)
    assert art.patchcore.image_names == ["a", "b", "c"]


def test_incompatible_bank_shape(tmp_path: Path) -> None:
    thr = calibrate(np.array([1.0]), np.ones(3))
    save_artifact(
        tmp_path / "m", {**MANIFEST, "feature_shape": [4, 4, 9]}, thr, b"x", patchcore=_bank()
    )
    with pytest.raises(ArtifactError, match="does not match"):
        load_artifact(tmp_path / "m")
    with pytest.raises(ArtifactError, match="exactly one"):
        save_artifact(tmp_path / "n", MANIFEST, thr, b"x")


def test_registry_adds_and_replaces(tmp_path: Path) -> None:
    reg = tmp_path / "models" / "registry.json"
    update_registry(reg, tmp_path / "models" / "a", MANIFEST)
    update_registry(reg, tmp_path / "models" / "a", {**MANIFEST, "model_version": "v2"})
    update_registry(reg, tmp_path / "models" / "b", MANIFEST)
    models = json.loads(reg.read_text())["models"]
    assert [(m["path"], m["model_version"]) for m in models] == [("a", "v2"), ("b", "v1")]
