"""Guided recalibration on a real (tiny) model: new version, manifest, histogram, registry,
rollback, and refusals that leave everything as it was."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspection_nodes.core.anomaly.artifact import read_manifest
from inspection_nodes.core.anomaly.engine import AnomalyEngine
from inspection_nodes.core.anomaly.manifest import ModelManifest
from inspection_nodes.core.anomaly.recalibration import (
    HISTOGRAM_FILE,
    RecalibrationError,
    good_image_paths,
    images_hash,
    next_version_dir,
    recalibrate,
    rollback,
)
from inspection_nodes.core.anomaly.registry import read_registry, set_active, update_registry
from inspection_nodes.core.io import mvtec
from inspection_nodes.core.stability.baseline import load_baseline


def _dark(rgb: np.ndarray) -> np.ndarray:
    return (rgb * 0.75).astype(np.uint8)


@pytest.fixture
def station(tiny_model, bottle_subset, tmp_path):
    """Registry in tmp_path that lists the tiny model; dark copies of its 10 training images."""
    registry = tmp_path / "registry.json"
    update_registry(registry, tiny_model, read_manifest(tiny_model))
    paths = mvtec.list_train_images(bottle_subset)
    images = [_dark(mvtec.read_rgb(p, 224)) for p in paths]
    return tiny_model, registry, images, [f"dark-{p.name}" for p in paths]


def test_new_version_with_manifest_histogram_and_baseline(station, bottle_subset, tmp_path):
    parent, registry, images, names = station
    parent_files = {p.name: p.stat().st_mtime_ns for p in parent.iterdir()}
    result = recalibrate(
        parent,
        tmp_path / "bottle.r1",
        images,
        names,
        requested_by="tech-anna",
        source="next 10 units",
        registry=registry,
    )
    m = ModelManifest.from_dict(json.loads((result.model_dir / "manifest.json").read_text()))
    pm = read_manifest(parent)
    assert m == result.manifest and m.to_dict()["format_version"] == 1
    assert m.parent_version == pm.model_version != m.model_version
    assert m.root_version == m.lineage == pm.model_version
    assert m.accepted_embeddings == {m.model_version, pm.model_version}
    assert m.model_version.startswith(f"patchcore-efficientnet_lite0-{m.dataset.hash[:8]}-")
    assert (m.config, m.backbone) == (pm.config, pm.backbone) and m.dataset.parent == pm.dataset
    rec = m.recalibration
    assert (rec.requested_by, rec.n_images, rec.parent_version) == (
        "tech-anna",
        10,
        pm.model_version,
    )
    assert rec.source == "next 10 units"
    assert rec.dataset_hash == images_hash(names, images) == m.dataset.hash
    assert rec.image_threshold_after == pytest.approx(result.threshold_after)
    assert m.metrics.bank_size > pm.metrics.bank_size and m.metrics.enroll_s == pm.metrics.enroll_s
    picture = cv2.imread(str(result.model_dir / HISTOGRAM_FILE))
    assert picture is not None and picture.shape[2] == 3 and picture.std() > 0
    baseline = load_baseline(result.model_dir)
    assert (baseline.source, baseline.model_version) == ("recalibration", m.model_version)
    assert {p.name: p.stat().st_mtime_ns for p in parent.iterdir()} == parent_files
    entries = read_registry(registry)["models"]
    assert [e["parent_version"] for e in entries] == [None, pm.model_version]

    # The new model knows the dark normal: dark good test parts score lower than under the
    # parent, with the parent's normals kept (bigger bank).
    old, new = AnomalyEngine.load(parent), AnomalyEngine.load(result.model_dir)
    assert new.bank_size > old.bank_size
    dark_good = [_dark(mvtec.read_rgb(p, 224)) for p in (bottle_subset / "test/good").iterdir()]
    for img in dark_good:
        patches = old.embed(img)
        assert new.score(patches, (224, 224)).score < old.score(patches, (224, 224)).score


def test_activate_and_roll_back(station, tmp_path):
    parent, registry, images, names = station
    engine = AnomalyEngine.load(parent)
    feats = np.stack([engine.embed(img) for img in images])
    result = recalibrate(
        parent,
        tmp_path / "bottle.r1",
        images,
        names,
        requested_by="tech",
        source="folder",
        features=feats,
        registry=registry,
    )
    lineage = result.manifest.root_version
    set_active(registry, result.model_dir, result.manifest)
    assert read_registry(registry)["active"][lineage] == "bottle.r1"
    back = rollback(registry, result.model_dir)
    assert back.resolve() == parent.resolve()
    active = read_registry(registry)["active"][lineage]
    assert (registry.parent / active).resolve() == parent.resolve()
    assert result.model_dir.is_dir()  # a rollback deletes nothing
    with pytest.raises(RecalibrationError, match="original enrollment"):
        rollback(registry, parent)
    with pytest.raises(RecalibrationError, match="not in"):
        rollback(tmp_path / "other.json", result.model_dir)


def test_bad_requests_change_nothing(station, tmp_path):
    parent, registry, images, names = station
    before = registry.read_text()
    out = tmp_path / "new"
    cases = [
        ({"images": images[:9], "names": names[:9]}, "at least 10"),
        ({"requested_by": " "}, "requested_by"),
        ({"features": np.zeros((10, 2, 2, 2), np.float32)}, "features must be"),
    ]
    for change, match in cases:
        kwargs = {"images": images, "names": names, "requested_by": "t", "source": "s"}
        kwargs.update(change)
        with pytest.raises(RecalibrationError, match=match):
            recalibrate(parent, out, registry=registry, **kwargs)
    (out / "keep.txt").parent.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(RecalibrationError, match="not empty"):
        recalibrate(parent, out, images, names, requested_by="t", source="s", registry=registry)
    assert registry.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "registry.json"]
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_version_names_and_hashes(tmp_path) -> None:
    (tmp_path / "bottle").mkdir()
    assert next_version_dir(tmp_path / "bottle") == tmp_path / "bottle.r1"
    (tmp_path / "bottle.r1").mkdir()
    assert next_version_dir(tmp_path / "bottle") == tmp_path / "bottle.r2"
    assert next_version_dir(tmp_path / "bottle.r1") == tmp_path / "bottle.r2"
    a, b = np.zeros((4, 4, 3), np.uint8), np.ones((4, 4, 3), np.uint8)
    assert images_hash(["a", "b"], [a, b]) == images_hash(["b", "a"], [b, a])
    assert images_hash(["a", "b"], [a, b]) != images_hash(["a", "b"], [b, a])


def test_good_image_paths(bottle_subset: Path, tmp_path: Path) -> None:
    assert len(good_image_paths(bottle_subset)) == 10  # MVTec category: train/good
    assert len(good_image_paths(bottle_subset / "test" / "good")) == 2  # plain folder
    with pytest.raises(mvtec.DatasetError, match="no images"):
        good_image_paths(tmp_path)
    with pytest.raises(mvtec.DatasetError, match="no such folder"):
        good_image_paths(tmp_path / "missing")
