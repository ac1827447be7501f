"""PaDiM (Defard et al., ICPR 2021): one Gaussian per patch position, Mahalanobis map.

Uses the same aggregated features as PatchCore, restricted to a fixed random subset of
`dims` channels (the paper's random dimensionality reduction, 100 by default), so the per-position
covariance stays (P, d, d) = 784 x 100 x 100 float32 = 31 MB.
Incremental enrollment merges sample statistics (count, mean, covariance) exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REGULARISATION = 0.01  # added to the covariance diagonal, as in the paper


@dataclass
class PadimStats:
    """Sufficient statistics of the normal features.

    Attributes:
        channels: int64 (d,) selected channel indices.
        count: number of images seen.
        mean: float32 (P, d) per-position mean.
        cov: float32 (P, d, d) per-position covariance (unbiased, without regularisation).
    """

    channels: np.ndarray
    count: int
    mean: np.ndarray
    cov: np.ndarray

    @property
    def size(self) -> int:
        """Number of Gaussians (patch positions)."""
        return int(self.mean.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes of the mean and covariance arrays."""
        return int(self.mean.nbytes + self.cov.nbytes)


def fit_padim(embeddings: np.ndarray, dims: int = 100, seed: int = 0) -> PadimStats:
    """(N, h, w, C) normal features -> statistics. Needs N >= 2."""
    n, _h, _w, c = embeddings.shape
    if n < 2:
        raise ValueError("PaDiM needs at least 2 images for a covariance")
    rng = np.random.default_rng(seed)
    channels = np.sort(rng.choice(c, min(dims, c), replace=False))
    return fit_padim_subset(embeddings, channels)


def add_normals(stats: PadimStats, embeddings: np.ndarray) -> PadimStats:
    """Merge new normal images into the statistics (Chan et al. pairwise update)."""
    new = fit_padim_subset(embeddings, stats.channels)
    n1, n2 = stats.count, new.count
    total = n1 + n2
    delta = (new.mean - stats.mean).astype(np.float64)
    mean = stats.mean + delta * (n2 / total)
    scatter = (
        stats.cov.astype(np.float64) * (n1 - 1)
        + new.cov.astype(np.float64) * max(n2 - 1, 0)
        + np.einsum("pi,pj->pij", delta, delta) * (n1 * n2 / total)
    )
    return PadimStats(
        stats.channels, total, mean.astype(np.float32), (scatter / (total - 1)).astype(np.float32)
    )


def fit_padim_subset(embeddings: np.ndarray, channels: np.ndarray) -> PadimStats:
    """Statistics of (N, h, w, C) features on given channels; N = 1 gives a zero covariance."""
    n, h, w, c = embeddings.shape
    x = embeddings.reshape(n, h * w, c)[:, :, channels].astype(np.float64)
    mean = x.mean(axis=0)
    centred = x - mean
    cov = np.einsum("npi,npj->pij", centred, centred) / max(n - 1, 1)
    return PadimStats(channels, n, mean.astype(np.float32), cov.astype(np.float32))


class PadimModel:
    """Mahalanobis scorer; the inverse covariances are computed once at construction."""

    def __init__(self, stats: PadimStats) -> None:
        self.stats = stats
        d = len(stats.channels)
        reg = stats.cov + REGULARISATION * np.eye(d, dtype=np.float32)
        self.inv_cov = np.linalg.inv(reg).astype(np.float32)
        self.mean = stats.mean
        self.channels = stats.channels

    @property
    def size(self) -> int:
        """Number of Gaussians (patch positions)."""
        return int(self.mean.shape[0])

    @property
    def nbytes(self) -> int:
        return int(self.mean.nbytes + self.stats.cov.nbytes + self.inv_cov.nbytes)

    def score_patches(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        """(P, C) features -> Mahalanobis distance per position (P,), twice (pixel, image)."""
        diff = patches[:, self.channels] - self.mean
        left = np.matmul(diff[:, None, :], self.inv_cov)[:, 0, :]
        dist = np.sqrt(np.maximum(np.einsum("pi,pi->p", left, diff), 0.0))
        return dist, dist, None

    def nearest_images(self, patch: np.ndarray, k: int = 3) -> tuple[str, ...]:
        """PaDiM keeps no per-image memory, so there is nothing to show."""
        return ()
