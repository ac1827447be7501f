"""Evidence pictures for the simulated cell: a real data-set image, and a heatmap made from the
data set's ground-truth defect mask (the simulated cell runs no model; the real cell sends the
anomaly map it computed). Both 224 x 224 PNG, the size the cell's ROI uses."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SIZE = 224


def _png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("cannot encode PNG")
    return data.tobytes()


def unit_pictures(image_path: Path, mask_path: Path | None) -> tuple[bytes, bytes | None]:
    """(image PNG, heatmap overlay PNG or None when there is no mask)."""
    image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read {image_path}")
    image = cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    if mask_path is None:
        return _png(image), None
    mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise ValueError(f"cannot read {mask_path}")
    mask = cv2.resize(mask, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    heat = cv2.applyColorMap(cv2.GaussianBlur(mask, (0, 0), 6), cv2.COLORMAP_JET)
    return _png(image), _png(cv2.addWeighted(image, 0.55, heat, 0.45, 0))


def mask_features(mask_path: Path) -> dict[str, float | int]:
    """The anomaly extraction the cell would report for this defect (area, regions, peak)."""
    mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise ValueError(f"cannot read {mask_path}")
    mask = cv2.resize(mask, (SIZE, SIZE), interpolation=cv2.INTER_NEAREST) > 127
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    areas = stats[1:, cv2.CC_STAT_AREA] if count > 1 else np.zeros(0, int)
    ys, xs = np.nonzero(mask)
    return {
        "area_px": int(mask.sum()),
        "area_ratio": float(mask.mean()),
        "regions": int(count - 1),
        "largest_region_px": int(areas.max()) if areas.size else 0,
        "peak_x": int(xs.mean()) if xs.size else 0,
        "peak_y": int(ys.mean()) if ys.size else 0,
        "map_width": SIZE,
        "map_height": SIZE,
    }
