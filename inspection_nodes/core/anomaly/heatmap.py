"""Heatmap overlay for rqt and evidence: JET colour map blended over the ROI."""

from __future__ import annotations

import cv2
import numpy as np


def overlay(
    roi_rgb: np.ndarray, anomaly_map: np.ndarray, pixel_threshold: float, alpha: float = 0.5
) -> np.ndarray:
    """Blend a colour-mapped anomaly map over the image.

    The colour scale is anchored to the pixel threshold, not to each map's own min/max, so the
    same colour means the same score on every unit: 0 -> blue, threshold -> middle (green-yellow),
    2 x threshold and above -> red. A good part therefore looks blue instead of showing
    normalised noise.

    Args:
        roi_rgb: uint8 (H, W, 3) RGB.
        anomaly_map: float32 (H, W) (resized to the image if needed).
        pixel_threshold: > 0.
        alpha: weight of the heatmap.

    Returns:
        uint8 (H, W, 3) RGB.
    """
    if roi_rgb.dtype != np.uint8 or roi_rgb.ndim != 3 or roi_rgb.shape[2] != 3:
        raise ValueError(f"roi must be uint8 (H, W, 3), got {roi_rgb.dtype} {roi_rgb.shape}")
    height, width = roi_rgb.shape[:2]
    amap = np.asarray(anomaly_map, dtype=np.float32)
    if amap.shape != (height, width):
        amap = cv2.resize(amap, (width, height), interpolation=cv2.INTER_LINEAR)
    scale = 127.5 / max(float(pixel_threshold), 1e-12)
    levels = cv2.convertScaleAbs(amap, alpha=scale)  # saturates to 0..255
    colour = cv2.cvtColor(cv2.applyColorMap(levels, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(colour, alpha, roi_rgb, 1.0 - alpha, 0.0)
