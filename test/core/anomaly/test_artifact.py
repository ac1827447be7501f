"""Artifact round trip, load time, and clear errors for incomplete or foreign directories."""

import json
import time
from pathlib import Path

import numpy as np
import pytest
from helpers.manifests import manifest

from inspection_nodes.core.anomaly.artifact import (
    ArtifactError,
    load_artifact,
    read_manifest,
    save_artifact,
)
from inspection_nodes.core.anomaly.manifest import Method
from inspection_nodes.core.anomaly.padim.model import fit_padim
from inspection_nodes.core.anomaly.patchcore.fit import PatchCoreConfig, fit_patchcore
from inspection_nodes.core.anomaly.thresholds import calibrate

MANIFEST = manifest()


def _bank():
    feats = np.random.default_rng(0).normal(size=(3, 4, 4, 8)).astype(np.float32)
    return fit_patchcore(feats, ["a", "b", "c"], PatchCoreConfig(shallow_channels=2, search_dim=4))


def test_round_trip_is_exact_and_fast(tmp_path: Path) -> None:
    bank = _bank()
    thr = calibrate(np.array([1.0, 2.0]), np.ones(10))
    save_artifact(tmp_path / "m", MANIFEST, thr, b"onnx", bank)
    start = time.perf_counter()
    art = load_artifact(tmp_path / "m")
    assert time.perf_counter() - start < 0.5
    assert art.thresholds == thr and art.manifest.method == "patchcore" and art.onnx_path.is_file()
    assert art.manifest == MANIFEST
    np.testing.assert_array_equal(art.state.bank, bank.bank)
    np.testing.assert_array_equal(art.state.sources, bank.sources)
    np.testing.assert_array_equal(art.state.proj, bank.proj)
    assert art.state.image_names == ["a", "b", "c"]


def test_padim_round_trip(tmp_path: Path) -> None:
    stats = fit_padim(np.random.default_rng(1).normal(size=(3, 4, 4, 8)), dims=5)
    thr = calibrate(np.array([1.0, 2.0]), np.ones(10))
    save_artifact(tmp_path / "p", manifest(method=Method.PADIM), thr, b"onnx", stats)
    art = load_artifact(tmp_path / "p")
    assert art.manifest.method == Method.PADIM and art.state.count == 3
    np.testing.assert_array_equal(art.state.cov, stats.cov)


def test_incompatible_bank_shape(tmp_path: Path) -> None:
    thr = calibrate(np.array([1.0]), np.ones(3))
    save_artifact(tmp_path / "m", manifest(feature_shape=(4, 4, 9)), thr, b"x", _bank())
    with pytest.raises(ArtifactError, match="does not match"):
        load_artifact(tmp_path / "m")
    with pytest.raises(ArtifactError, match="cannot be saved as padim"):
        save_artifact(tmp_path / "n", manifest(method=Method.PADIM), thr, b"x", _bank())


def test_missing_pieces_and_foreign_manifests_are_clear_errors(tmp_path: Path) -> None:
    thr = calibrate(np.array([1.0]), np.ones(3))
    model = save_artifact(tmp_path / "m", MANIFEST, thr, b"x", _bank())
    (model / "bank.npy").unlink()
    with pytest.raises(ArtifactError, match="incomplete or corrupt"):
        load_artifact(model)
    with pytest.raises(ArtifactError, match="not a model directory"):
        read_manifest(tmp_path)
    data = MANIFEST.to_dict()
    del data["input_size"]  # an older layout: a clear error, not a KeyError
    (model / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match=r"manifest.json: manifest: input_size is missing"):
        read_manifest(model)
    (model / "manifest.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="unreadable manifest"):
        read_manifest(model)
