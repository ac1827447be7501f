"""MVTec-AD layout: discovery of train/test images and masks, and image loading with clear errors.

Layout of one category directory::

    train/good/*.png|jpg          normal images used for enrollment
    test/good/*                   normal test images (no masks: all-zero)
    test/<defect>/*               defective test images
    ground_truth/<defect>/<stem>_mask.png   binary mask of each defective test image

Images are loaded as uint8 RGB and resized to the model input with `cv2.INTER_AREA` (the whole
image is the ROI). Masks are resized with `INTER_NEAREST` and binarised (> 127).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inspection_nodes import PACKAGE_DIR
from inspection_nodes.core.io.roi import resize

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
DATA_ENV = "INSPECTION_DATA_DIR"


class DatasetError(ValueError):
    """Wrong directory layout or an image that cannot be read."""


@dataclass(frozen=True)
class Sample:
    """One test image: `label` 0 good / 1 defective; `mask_path` None for good images."""

    path: Path
    label: int
    defect_type: str
    mask_path: Path | None


def default_data_dir() -> Path:
    """Shared data directory: $INSPECTION_DATA_DIR or `../shared/data` beside the repo root."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return PACKAGE_DIR.parent / ".." / "shared" / "data"


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def list_train_images(category: Path) -> list[Path]:
    """Sorted normal training images of a category; raises DatasetError if there are none."""
    folder = Path(category) / "train" / "good"
    if not folder.is_dir():
        raise DatasetError(f"{category}: not an MVTec-layout category (missing train/good/)")
    paths = _images_in(folder)
    if not paths:
        raise DatasetError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return paths


def list_test_samples(category: Path) -> list[Sample]:
    """All test images with labels and mask paths; raises DatasetError on a broken layout.

    A defective image without its `ground_truth/<defect>/<stem>_mask.png` is an error only if the
    category has a ground_truth folder at all (then a missing mask means a broken copy).
    """
    category = Path(category)
    test_dir = category / "test"
    if not test_dir.is_dir():
        raise DatasetError(f"{category}: not an MVTec-layout category (missing test/)")
    gt_dir = category / "ground_truth"
    samples: list[Sample] = []
    for defect_dir in sorted(p for p in test_dir.iterdir() if p.is_dir()):
        defect = defect_dir.name
        for path in _images_in(defect_dir):
            if defect == "good":
                samples.append(Sample(path, 0, defect, None))
                continue
            mask = gt_dir / defect / f"{path.stem}_mask.png"
            if gt_dir.is_dir() and not mask.is_file():
                raise DatasetError(f"{path}: missing mask {mask}")
            samples.append(Sample(path, 1, defect, mask if mask.is_file() else None))
    if not samples:
        raise DatasetError(f"{test_dir}: no test images")
    if not any(s.label == 0 for s in samples) or not any(s.label == 1 for s in samples):
        raise DatasetError(f"{test_dir}: needs both good and defective images for AUROC")
    return samples


def read_rgb(path: Path, size: int | None = None) -> np.ndarray:
    """Read an image as uint8 RGB (H, W, 3), area-resized to (size, size) if given (the roi
    node's resize, so enrolled images and live ROIs get identical pixels).

    Raises:
        DatasetError: file missing, not decodable, or not an image.
    """
    data = np.fromfile(str(path), dtype=np.uint8) if Path(path).is_file() else None
    if data is None:
        raise DatasetError(f"{path}: file not found")
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise DatasetError(f"{path}: cannot decode image (corrupt or not an image)")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if size is not None and rgb.shape[:2] != (size, size):
        rgb = resize(rgb, (size, size), cv2.INTER_AREA)
    return rgb


def read_mask(path: Path | None, shape: tuple[int, int]) -> np.ndarray:
    """Binary uint8 mask (H, W) of 0/1 at `shape`; all-zero for `path` None (good images)."""
    if path is None:
        return np.zeros(shape, dtype=np.uint8)
    mask = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise DatasetError(f"{path}: cannot decode mask")
    if mask.shape != shape:
        mask = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return (mask > 127).astype(np.uint8)


def dataset_hash(paths: list[Path]) -> str:
    """SHA-256 over file names and bytes of the enrollment images (order independent)."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()
