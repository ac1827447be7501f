"""What "normal" looked like when a model version was built: the stability index's baseline.

Enrollment (and recalibration) writes it as `MODEL_DIR/baseline.npz`; the stability monitor
compares its rolling window against it. Models enrolled before this file existed still load:
`load_baseline` returns None and the monitor falls back to a reference window of the first units.

Statistics, all from the good images the model version was built from:

  scores     image scores of the held-out good images (scored by a model that never saw them),
             summarised as p50 / p95, and the calibrated image threshold;
  features   one centroid per image = mean of its patch embeddings (C,), modelled as a
             probabilistic PCA: the mean centroid, the `components` main directions of the
             image-to-image variation with their variances, one variance for all other directions;
  luminance  per-image mean Rec.601 luma (mean and standard deviation over the images);
  chroma     per-image chromaticity (r, g, b) / (r + g + b) of the mean colour (mean).

The feature distance (`FeatureSpread.distance`) is a Mahalanobis distance under that PPCA model,
divided by sqrt(C) so that a typical single enrollment image lies at about 1.0. Directions in
which good parts never varied (a new light, a moved camera) weigh as much as the usual variation,
which a plain Euclidean distance would drown in the part-to-part spread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BASELINE_FILE = "baseline.npz"
BASELINE_FORMAT = 1
SOURCES = ("enrollment", "recalibration", "reference")
PCA_COMPONENTS = 5
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])
STATS_MAX_SIDE = 256  # image statistics read a strided view of at most this many pixels a side


class BaselineError(ValueError):
    """Unreadable or inconsistent baseline file, or too little data to build one."""


@dataclass(frozen=True)
class FeatureSpread:
    """PPCA model of per-image feature centroids (see module docstring).

    Attributes:
        centroid: (C,) mean of the per-image centroids.
        basis: (k, C) orthonormal main directions of their variation (k may be 0).
        variances: (k,) variance along each direction.
        residual_variance: variance of every other direction.
    """

    centroid: np.ndarray
    basis: np.ndarray
    variances: np.ndarray
    residual_variance: float

    def distance(self, point: np.ndarray, origin: np.ndarray | None = None) -> float:
        """Normalised distance of `point` (C,) from the baseline centroid, or from `origin`.

        sqrt((sum_i z_i^2 / var_i + |r|^2 / residual_variance) / C) with z the coordinates along
        the main directions and r the rest: about 1.0 for a typical single enrollment image.
        """
        delta = np.asarray(point, np.float64) - (self.centroid if origin is None else origin)
        along = self.basis @ delta
        rest = delta - self.basis.T @ along
        total = float(np.sum(along**2 / self.variances))
        total += float(rest @ rest) / self.residual_variance
        return float(np.sqrt(total / delta.size))


def fit_spread(centroids: np.ndarray, components: int = PCA_COMPONENTS) -> FeatureSpread:
    """PPCA of N per-image centroids (N, C); needs N >= 2 (k = min(components, N - 2))."""
    points = np.asarray(centroids, np.float64)
    if points.ndim != 2 or len(points) < 2:
        raise BaselineError(f"need at least 2 feature centroids (N, C), got shape {points.shape}")
    n, c = points.shape
    centre = points.mean(axis=0)
    _, singular, vt = np.linalg.svd(points - centre, full_matrices=False)
    eigen = singular**2 / n
    k = max(0, min(components, n - 2, c - 1))
    # Floors keep the metric finite for identical images (synthetic data, a frozen camera).
    floor = max(1e-12, 1e-6 * float(eigen.sum()) / c)
    residual = max(float(eigen[k:].sum()) / (c - k), floor)
    return FeatureSpread(centre, vt[:k].copy(), np.maximum(eigen[:k], floor), residual)


def image_stats(rgb: np.ndarray) -> tuple[float, np.ndarray]:
    """(mean Rec.601 luma, chromaticity (3,)) of a uint8 RGB image (H, W, 3), read strided."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise BaselineError(f"image statistics need an RGB image (H, W, 3), got {rgb.shape}")
    step = max(1, max(rgb.shape[:2]) // STATS_MAX_SIDE)
    mean_rgb = rgb[::step, ::step].reshape(-1, 3).mean(axis=0, dtype=np.float64)
    total = float(mean_rgb.sum())
    chroma = mean_rgb / total if total > 0 else np.full(3, 1.0 / 3.0)
    return float(mean_rgb @ LUMA_WEIGHTS), chroma


def feature_centroid(patches: np.ndarray) -> np.ndarray:
    """(h, w, C) patch embeddings of one unit -> (C,) float64 mean."""
    if patches.ndim != 3:
        raise BaselineError(f"patch embeddings must be (h, w, C), got {patches.shape}")
    return patches.reshape(-1, patches.shape[2]).mean(axis=0, dtype=np.float64)


@dataclass(frozen=True)
class Baseline:
    """Normal statistics of one model version (see module docstring)."""

    source: str
    model_version: str
    scores: np.ndarray
    image_threshold: float
    features: FeatureSpread
    luminance: float
    luminance_sd: float
    chroma: np.ndarray
    n_images: int

    @property
    def score_p50(self) -> float:
        return float(np.percentile(self.scores, 50))

    @property
    def score_p95(self) -> float:
        return float(np.percentile(self.scores, 95))


def fit_baseline(
    source: str,
    model_version: str,
    scores: Sequence[float],
    image_threshold: float,
    centroids: np.ndarray,
    stats: Sequence[tuple[float, np.ndarray]],
) -> Baseline:
    """Baseline from held-out scores, per-image feature centroids and per-image image_stats."""
    if source not in SOURCES:
        raise BaselineError(f"baseline source must be one of {SOURCES}, got {source!r}")
    scores = np.asarray(scores, np.float64).ravel()
    if scores.size == 0 or not np.all(np.isfinite(scores)) or not np.isfinite(image_threshold):
        raise BaselineError("baseline needs at least one finite score and a finite threshold")
    if len(stats) < 2:
        raise BaselineError(f"baseline needs at least 2 images, got {len(stats)}")
    luma = np.array([s[0] for s in stats])
    return Baseline(
        source=source,
        model_version=model_version,
        scores=scores,
        image_threshold=float(image_threshold),
        features=fit_spread(centroids),
        luminance=float(luma.mean()),
        luminance_sd=float(luma.std()),
        chroma=np.mean([s[1] for s in stats], axis=0),
        n_images=len(stats),
    )


def baseline_from_images(
    source: str,
    model_version: str,
    images: Sequence[np.ndarray],
    features: np.ndarray,
    scores: Sequence[float],
    image_threshold: float,
) -> Baseline:
    """Baseline of the good images a model version was built from.

    Args:
        images: uint8 RGB images (any size; the whole image is the ROI).
        features: (N, h, w, C) patch embeddings of the same images.
        scores: image scores of the held-out images (unbiased: not in the model).
    """
    if len(images) != len(features):
        raise BaselineError(f"{len(images)} images but {len(features)} feature maps")
    centroids = np.stack([feature_centroid(f) for f in features])
    stats = [image_stats(img) for img in images]
    return fit_baseline(source, model_version, scores, image_threshold, centroids, stats)


def save_baseline(model_dir: Path, baseline: Baseline) -> Path:
    """Write MODEL_DIR/baseline.npz (atomically: a reader sees the old file or the new one)."""
    path = Path(model_dir) / BASELINE_FILE
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(
        tmp,
        format=np.int64(BASELINE_FORMAT),
        source=np.str_(baseline.source),
        model_version=np.str_(baseline.model_version),
        scores=baseline.scores,
        image_threshold=np.float64(baseline.image_threshold),
        centroid=baseline.features.centroid,
        basis=baseline.features.basis,
        variances=baseline.features.variances,
        residual_variance=np.float64(baseline.features.residual_variance),
        luminance=np.float64(baseline.luminance),
        luminance_sd=np.float64(baseline.luminance_sd),
        chroma=baseline.chroma,
        n_images=np.int64(baseline.n_images),
    )
    tmp.replace(path)
    return path


def load_baseline(model_dir: Path) -> Baseline | None:
    """Baseline of a model directory; None when the model predates baselines (no file).

    Raises:
        BaselineError: the file exists but is unreadable or of another format.
    """
    path = Path(model_dir) / BASELINE_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["format"]) != BASELINE_FORMAT:
                raise BaselineError(f"{path}: format {int(data['format'])} is not supported")
            spread = FeatureSpread(
                data["centroid"],
                data["basis"],
                data["variances"],
                float(data["residual_variance"]),
            )
            baseline = Baseline(
                source=str(data["source"]),
                model_version=str(data["model_version"]),
                scores=data["scores"],
                image_threshold=float(data["image_threshold"]),
                features=spread,
                luminance=float(data["luminance"]),
                luminance_sd=float(data["luminance_sd"]),
                chroma=data["chroma"],
                n_images=int(data["n_images"]),
            )
    except (OSError, KeyError, ValueError, TypeError) as exc:
        if isinstance(exc, BaselineError):
            raise
        raise BaselineError(f"{path}: unreadable baseline ({exc})") from exc
    if spread.basis.shape[1:] != spread.centroid.shape or spread.residual_variance <= 0:
        raise BaselineError(f"{path}: inconsistent feature statistics")
    return baseline
