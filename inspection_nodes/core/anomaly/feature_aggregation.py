"""Locally aware patch features (PatchCore, Roth et al. 2022, section 3.1).

Each layer's map is averaged over a 3x3 neighbourhood (zero padding counted, as
`torch.nn.AvgPool2d(3, 1, 1)` in anomalib), deeper layers are bilinearly upsampled to the grid of
the shallowest one (align_corners=False, the `F.interpolate` default) and all are concatenated
along channels. Done with OpenCV on channel-last arrays so the scoring process needs no torch and
the result is already the (h, w, C) layout that PatchEmbedding messages carry.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def aggregate(features: Sequence[np.ndarray]) -> np.ndarray:
    """Aggregate one image's layer outputs into patch features.

    Args:
        features: per layer float32 (1, C_i, h_i, w_i) or (C_i, h_i, w_i), shallow to deep.

    Returns:
        float32 C-contiguous (h_0, w_0, sum C_i). For EfficientNet-Lite0 at 224: (28, 28, 152).
    """
    maps = [np.asarray(f, dtype=np.float32) for f in features]
    maps = [m[0] if m.ndim == 4 else m for m in maps]
    h, w = maps[0].shape[1:]
    out = np.empty((h, w, sum(m.shape[0] for m in maps)), dtype=np.float32)
    start = 0
    for m in maps:
        hwc = np.ascontiguousarray(m.transpose(1, 2, 0))
        pooled = cv2.blur(hwc, (3, 3), borderType=cv2.BORDER_CONSTANT)
        if pooled.ndim == 2:  # OpenCV drops a single channel axis
            pooled = pooled[:, :, None]
        if pooled.shape[:2] != (h, w):
            pooled = cv2.resize(pooled, (w, h), interpolation=cv2.INTER_LINEAR)
            pooled = pooled.reshape(h, w, -1)
        out[:, :, start : start + m.shape[0]] = pooled
        start += m.shape[0]
    return out


def aggregate_batch(features: Sequence[np.ndarray]) -> np.ndarray:
    """Batched `aggregate`: per layer (N, C_i, h_i, w_i) -> float32 (N, h_0, w_0, sum C_i)."""
    n = features[0].shape[0]
    return np.stack([aggregate([f[i] for f in features]) for i in range(n)])
