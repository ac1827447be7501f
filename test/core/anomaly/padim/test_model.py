"""PaDiM statistics, Mahalanobis scoring and incremental merge."""

import numpy as np
import pytest

from inspection_nodes.core.anomaly.padim.model import PadimModel, add_normals, fit_padim


def test_mahalanobis_orders_points_and_shape() -> None:
    feats = np.random.default_rng(0).normal(size=(40, 2, 2, 6)).astype(np.float32)
    stats = fit_padim(feats, dims=4)
    model = PadimModel(stats)
    mean_patch = np.zeros((4, 6), np.float32)
    far = mean_patch + 10
    d_mean, _, rows = model.score_patches(mean_patch)
    d_far, _, _ = model.score_patches(far)
    assert d_mean.shape == (4,) and rows is None and (d_far > d_mean + 5).all()
    assert model.nearest_images(mean_patch[0]) == ()


def test_incremental_merge_equals_batch_fit() -> None:
    feats = np.random.default_rng(1).normal(size=(30, 2, 3, 5)).astype(np.float32)
    full = fit_padim(feats, dims=5, seed=2)
    part = add_normals(fit_padim(feats[:20], dims=5, seed=2), feats[20:])
    assert part.count == 30
    np.testing.assert_allclose(part.mean, full.mean, atol=1e-5)
    np.testing.assert_allclose(part.cov, full.cov, atol=1e-4)


def test_needs_two_images() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        fit_padim(np.zeros((1, 2, 2, 3), np.float32))
