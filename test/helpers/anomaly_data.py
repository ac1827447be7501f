"""Small synthetic MVTec-layout categories for engine tests (fast, deterministic).

Good images: a smooth gradient with a grid of dots and mild noise. Defects: a bright square
stamped at a random place, with its mask.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def good_image(rng: np.random.Generator, size: int = 96) -> np.ndarray:
    """uint8 RGB (size, size, 3) normal-looking texture."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    base = 80 + 60 * np.sin(xx / 9.0) * np.cos(yy / 11.0)
    img = np.stack([base, base * 0.8 + 20, 150 - base * 0.5], axis=2)
    img[::12, ::12] = 230
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def defect_image(rng: np.random.Generator, size: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """(image, mask 0/255) with a saturated square defect."""
    img = good_image(rng, size)
    mask = np.zeros((size, size), np.uint8)
    side = size // 5
    y, x = rng.integers(side, size - 2 * side, size=2)
    img[y : y + side, x : x + side] = (255, 0, 255)
    mask[y : y + side, x : x + side] = 255
    return img, mask


def _write(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def make_category(
    root: Path, n_train: int = 8, n_test_good: int = 3, n_defect: int = 3, seed: int = 0
) -> Path:
    """Write an MVTec-layout category under root/'synthetic' and return its path."""
    rng = np.random.default_rng(seed)
    cat = Path(root) / "synthetic"
    for i in range(n_train):
        _write(cat / "train" / "good" / f"{i:03d}.png", good_image(rng))
    for i in range(n_test_good):
        _write(cat / "test" / "good" / f"{i:03d}.png", good_image(rng))
    for i in range(n_defect):
        img, mask = defect_image(rng)
        _write(cat / "test" / "stain" / f"{i:03d}.png", img)
        (cat / "ground_truth" / "stain").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(cat / "ground_truth" / "stain" / f"{i:03d}_mask.png"), mask)
    return cat
