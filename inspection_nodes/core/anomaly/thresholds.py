"""Thresholds from good images only (no defect labels, no F1-optimal trick).

Enrollment holds out part of the good training images, scores them with the model built from the
rest, and sets

    threshold = Q_q(held-out good scores) + margin * (Q_q - median)

with q = 0.99 and margin = 0.25 by default, for the image score (one value per held-out image)
and for the pixel map (all held-out pixels). The margin scales with the spread of good scores,
so it adapts to the units of each model; the quantile is taken with linear interpolation and
falls back to the maximum for small held-out sets. A wider margin rejects fewer good parts and
misses more faint defects; the values can be overridden at run time (gate parameters).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

DEFAULT_QUANTILE = 0.99
DEFAULT_MARGIN = 0.25


@dataclass(frozen=True)
class Thresholds:
    """Image and pixel thresholds plus how they were obtained (stored in the artifact)."""

    image: float
    pixel: float
    quantile: float
    margin: float
    n_holdout_images: int
    holdout_image_max: float
    holdout_pixel_max: float

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Thresholds:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


def calibrate_value(
    scores: np.ndarray, quantile: float = DEFAULT_QUANTILE, margin: float = DEFAULT_MARGIN
) -> float:
    """Q_q(scores) + margin * (Q_q(scores) - median(scores)) for a 1-D sample of good scores."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if scores.size == 0:
        raise ValueError("cannot calibrate a threshold from zero scores")
    if not 0.0 < quantile <= 1.0 or margin < 0.0:
        raise ValueError(f"need 0 < quantile <= 1 and margin >= 0, got {quantile}, {margin}")
    q = float(np.quantile(scores, quantile))
    return q + margin * (q - float(np.median(scores)))


def calibrate(
    image_scores: np.ndarray,
    pixel_scores: np.ndarray,
    quantile: float = DEFAULT_QUANTILE,
    margin: float = DEFAULT_MARGIN,
    pixel_quantile: float = 0.999,
) -> Thresholds:
    """Thresholds from held-out good images.

    Args:
        image_scores: (K,) image scores of K held-out good images.
        pixel_scores: anomaly-map values of the same images, any shape (flattened).
        pixel_quantile: quantile for the pixel threshold; higher than the image one because one
            image contributes ~50k correlated pixels.
    """
    image_scores = np.asarray(image_scores, dtype=np.float64).ravel()
    pixels = np.asarray(pixel_scores, dtype=np.float64).ravel()
    return Thresholds(
        image=calibrate_value(image_scores, quantile, margin),
        pixel=calibrate_value(pixels, pixel_quantile, margin),
        quantile=quantile,
        margin=margin,
        n_holdout_images=int(image_scores.size),
        holdout_image_max=float(image_scores.max()),
        holdout_pixel_max=float(pixels.max()),
    )


def split_holdout(n: int, fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices (fit, holdout) of n images; holdout has round(fraction * n) items, at least 1.

    Needs n >= 2 (one image to fit, one to calibrate). Deterministic for a given seed.
    """
    if n < 2:
        raise ValueError(f"need at least 2 good images to hold one out, got {n}")
    k = min(n - 1, max(1, round(fraction * n)))
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[k:]), np.sort(order[:k])
