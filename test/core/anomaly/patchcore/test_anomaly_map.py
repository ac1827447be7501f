"""Anomaly map: patch grid to a smoothed map at the ROI size, and the image score."""

import numpy as np

from inspection_nodes.core.anomaly.patchcore.anomaly_map import AnomalyMapGenerator


def test_anomaly_map_shape_peak_and_smoothing() -> None:
    gen = AnomalyMapGenerator(input_size=224)
    grid = np.zeros((28, 28), np.float32)
    grid[7, 21] = 1.0
    amap = gen(grid, (224, 224))
    assert amap.shape == (224, 224) and amap.dtype == np.float32
    r, c = np.unravel_index(np.argmax(amap), amap.shape)
    assert abs(r - 60) <= 8 and abs(c - 172) <= 8
    assert amap.max() < 1.0  # blurred
    assert gen(grid, (100, 300)).shape == (100, 300)
    assert 0 < gen.image_score(grid) < 1.0
