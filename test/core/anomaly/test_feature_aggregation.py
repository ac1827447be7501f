"""Locally aware patch features match the torch (anomalib) definition."""

import numpy as np
import torch
import torch.nn.functional as F

from inspection_nodes.core.anomaly.feature_aggregation import aggregate, aggregate_batch


def _torch_reference(features: list[np.ndarray]) -> np.ndarray:
    maps = [F.avg_pool2d(torch.from_numpy(f), 3, 1, 1) for f in features]
    size = maps[0].shape[-2:]
    maps = [maps[0]] + [F.interpolate(m, size=size, mode="bilinear") for m in maps[1:]]
    return torch.cat(maps, 1)[0].permute(1, 2, 0).numpy()


def _features(seed: int, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype(np.float32) for shape in shapes]


def test_matches_avgpool_and_bilinear_upsample() -> None:
    feats = _features(0, (1, 40, 28, 28), (1, 112, 14, 14))
    out = aggregate(feats)
    assert out.shape == (28, 28, 152) and out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_allclose(out, _torch_reference(feats), atol=1e-5)


def test_single_channel_and_batch() -> None:
    feats = _features(1, (2, 1, 8, 8), (2, 3, 4, 4))
    out = aggregate_batch(feats)
    assert out.shape == (2, 8, 8, 4)
    np.testing.assert_allclose(out[1], _torch_reference([f[1:] for f in feats]), atol=1e-5)
