"""Enrollment on small synthetic categories: a complete, deterministic model directory."""

from pathlib import Path

import numpy as np
import pytest
from helpers.anomaly_data import defect_image, good_image

from inspection_nodes.core.anomaly.artifact import load_artifact
from inspection_nodes.core.anomaly.engine import AnomalyEngine, EngineError
from inspection_nodes.core.anomaly.enrollment import EnrollConfig, enroll_images
from inspection_nodes.core.anomaly.manifest import Method
from inspection_nodes.core.stability.baseline import load_baseline

FILES = {
    "manifest.json",
    "backbone.onnx",
    "thresholds.json",
    "bank.npy",
    "bank_sources.npy",
    "search.npz",
    "image_names.json",
    "baseline.npz",
}


def _images(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [good_image(rng) for _ in range(n)]


def test_enrollment_writes_a_complete_and_deterministic_model(tmp_path: Path) -> None:
    images, names = _images(0, 6), [f"good_{i}.png" for i in range(6)]
    first = enroll_images(images, names, tmp_path / "a", data_path="cat", data_hash="feedbeef00")
    second = enroll_images(images, names, tmp_path / "b", data_path="cat", data_hash="feedbeef00")
    assert {p.name for p in (tmp_path / "a").iterdir()} == FILES
    assert first.method == Method.PATCHCORE and first.model_version.startswith(
        "patchcore-efficientnet_lite0-feedbeef-"
    )
    assert first.dataset.n_images == 6 and first.dataset.n_holdout == 1
    assert (first.dataset.path, first.dataset.hash) == ("cat", "feedbeef00")
    assert first.feature_shape == (28, 28, 152) and first.backbone.layers == (
        "blocks.2",
        "blocks.4",
    )
    a, b = load_artifact(tmp_path / "a"), load_artifact(tmp_path / "b")
    assert first.metrics.bank_size == len(a.state.bank) and a.thresholds == b.thresholds
    np.testing.assert_array_equal(a.state.bank, b.state.bank)
    assert sorted(a.state.image_names) == names
    baseline = load_baseline(tmp_path / "a")
    assert baseline.source == "enrollment" and baseline.model_version == first.model_version
    assert second.model_version.rsplit("-", 1)[0] == first.model_version.rsplit("-", 1)[0]


def test_padim_enrollment_scores_a_defect_higher(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    images = [good_image(rng) for _ in range(5)]
    manifest = enroll_images(
        images, [str(i) for i in range(5)], tmp_path / "p", EnrollConfig(method=Method.PADIM)
    )
    assert manifest.method == Method.PADIM and (tmp_path / "p" / "padim.npz").is_file()
    assert manifest.model_version.startswith("padim-efficientnet_lite0-nohash-")
    eng = AnomalyEngine.load(tmp_path / "p")
    bad_img, _ = defect_image(rng)
    good = eng.score(eng.embed(good_image(rng)), (96, 96))
    bad = eng.score(eng.embed(bad_img), (96, 96))
    assert eng.method == "padim" and bad.score > good.score and bad.nearest_normals == ()


@pytest.mark.parametrize(
    ("images", "names", "config", "message"),
    [
        (1, 1, EnrollConfig(), "at least 2"),
        (3, 2, EnrollConfig(), "at least 2"),
        (3, 3, EnrollConfig(method="knn"), "unknown method"),
        (3, 3, EnrollConfig(backbone="resnet"), "resnet"),
    ],
)
def test_bad_requests_are_engine_errors(tmp_path: Path, images, names, config, message) -> None:
    with pytest.raises(EngineError, match=message):
        enroll_images(_images(2, images), [str(i) for i in range(names)], tmp_path, config)
