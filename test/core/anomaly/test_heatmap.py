"""Heatmap overlay."""

import numpy as np
import pytest

from inspection_nodes.core.anomaly.heatmap import overlay


def test_overlay_is_uint8_rgb_and_anchored_to_threshold() -> None:
    roi = np.zeros((40, 60, 3), np.uint8)
    amap = np.zeros((20, 30), np.float32)
    amap[:, 15:] = 10.0  # far above threshold -> red side
    out = overlay(roi, amap, pixel_threshold=1.0)
    assert out.shape == (40, 60, 3) and out.dtype == np.uint8
    assert out[20, 50, 0] > out[20, 50, 2]  # hot: red > blue
    assert out[20, 5, 2] > out[20, 5, 0]  # cold: blue > red


def test_overlay_rejects_bad_roi() -> None:
    with pytest.raises(ValueError, match="uint8"):
        overlay(np.zeros((4, 4), np.float32), np.zeros((4, 4)), 1.0)
