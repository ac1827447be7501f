"""Stability baseline: the feature metric, image statistics, file round trip, enrollment hook."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inspection_nodes.core.stability.baseline import (
    BASELINE_FILE,
    BaselineError,
    baseline_from_images,
    fit_spread,
    image_stats,
    load_baseline,
    save_baseline,
)


def test_typical_image_is_at_one_and_new_directions_weigh_more() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(0, 0.1, (60, 32))
    points[:, 0] += rng.normal(0, 5.0, 60)  # large usual variation along one axis
    spread = fit_spread(points)
    assert np.mean([spread.distance(p) for p in points]) == pytest.approx(1.0, abs=0.1)
    along_usual, new_direction = np.zeros(32), np.zeros(32)
    along_usual[0] = new_direction[5] = 1.0
    centre = spread.centroid
    assert spread.distance(centre + new_direction) > 5 * spread.distance(centre + along_usual)
    assert spread.distance(centre + new_direction, centre + new_direction) == 0.0


def test_identical_images_keep_the_metric_finite() -> None:
    spread = fit_spread(np.ones((5, 8)))
    assert np.isfinite(spread.distance(np.full(8, 2.0)))
    with pytest.raises(BaselineError, match="at least 2"):
        fit_spread(np.ones((1, 8)))


def test_image_stats() -> None:
    rgb = np.zeros((600, 400, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 100
    luma, chroma = image_stats(rgb)
    assert luma == pytest.approx(0.299 * 200 + 0.587 * 100 + 0.114 * 100)
    assert chroma == pytest.approx([0.5, 0.25, 0.25])
    assert image_stats(np.zeros((4, 4, 3), np.uint8))[1] == pytest.approx([1 / 3] * 3)
    with pytest.raises(BaselineError):
        image_stats(np.zeros((4, 4), np.uint8))


def _baseline():
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, (16, 16, 3), dtype=np.uint8) for _ in range(6)]
    feats = rng.normal(size=(6, 2, 2, 8)).astype(np.float32)
    return baseline_from_images("enrollment", "v9", images, feats, [1.0, 1.5], 3.0)


def test_round_trip(tmp_path) -> None:
    base = _baseline()
    save_baseline(tmp_path, base)
    back = load_baseline(tmp_path)
    assert (back.source, back.model_version, back.n_images) == ("enrollment", "v9", 6)
    assert back.image_threshold == 3.0 and back.score_p50 == pytest.approx(1.25)
    np.testing.assert_array_equal(back.scores, base.scores)
    np.testing.assert_array_equal(back.features.basis, base.features.basis)
    np.testing.assert_array_equal(back.chroma, base.chroma)
    point = base.features.centroid + 1.0
    assert back.features.distance(point) == pytest.approx(base.features.distance(point))


def test_old_models_have_none_and_broken_files_are_errors(tmp_path) -> None:
    assert load_baseline(tmp_path) is None
    (tmp_path / BASELINE_FILE).write_bytes(b"not an npz")
    with pytest.raises(BaselineError, match="unreadable"):
        load_baseline(tmp_path)


def test_bad_inputs_are_refused() -> None:
    rng = np.random.default_rng(2)
    images = [np.zeros((8, 8, 3), np.uint8)] * 3
    feats = rng.normal(size=(3, 2, 2, 4))
    with pytest.raises(BaselineError, match="feature maps"):
        baseline_from_images("enrollment", "v", images, feats[:2], [1.0], 2.0)
    with pytest.raises(BaselineError, match="finite"):
        baseline_from_images("enrollment", "v", images, feats, [float("nan")], 2.0)
    with pytest.raises(BaselineError, match="source"):
        baseline_from_images("guess", "v", images, feats, [1.0], 2.0)


def test_enrollment_writes_the_baseline(tiny_model) -> None:
    base = load_baseline(tiny_model)
    manifest = json.loads((tiny_model / "manifest.json").read_text())
    thresholds = json.loads((tiny_model / "thresholds.json").read_text())
    assert base.source == "enrollment" and base.model_version == manifest["model_version"]
    assert base.n_images == manifest["dataset"]["n_images"]
    assert base.scores.size == manifest["dataset"]["n_holdout"]
    assert base.image_threshold == pytest.approx(thresholds["image"])
    assert base.features.centroid.shape == (manifest["feature_shape"][2],)
