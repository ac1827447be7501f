"""Build and extend a PatchCore memory bank from normal images' patch features."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inspection_nodes.core.anomaly.patchcore.model import PatchCoreBank, project
from inspection_nodes.core.anomaly.patchcore.sampling import k_center_greedy


@dataclass(frozen=True)
class PatchCoreConfig:
    """Enrollment settings (one default for every data set; see docs/anomaly_engine.md).

    Attributes:
        coreset_ratio: fraction of all enrollment patches kept in the bank.
        shallow_channels: leading channels that come from the shallow layer (40 for Lite0).
        shallow_weight: weight of those channels in the search metric.
        search_dim: PCA dimensions of the search space (0 or >= C: no reduction).
        seed: seeds the coreset start and the PCA row sample.
    """

    coreset_ratio: float = 0.1
    shallow_channels: int = 40
    shallow_weight: float = 1.5
    search_dim: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 < self.coreset_ratio <= 1.0:
            raise ValueError(f"coreset_ratio must be in (0, 1], got {self.coreset_ratio}")


def _fit_projection(
    weighted: np.ndarray, dim: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """PCA of (N, C) rows on at most 20k sampled rows -> mean (C,), basis (C, d)."""
    channels = weighted.shape[1]
    mean = weighted.mean(axis=0, dtype=np.float64).astype(np.float32)
    if dim <= 0 or dim >= channels:
        return mean, np.eye(channels, dtype=np.float32)
    rows = weighted[rng.choice(len(weighted), min(len(weighted), 20000), replace=False)]
    _, _, vt = np.linalg.svd(rows - mean, full_matrices=False)
    return mean, np.ascontiguousarray(vt[:dim].T, dtype=np.float32)


def fit_patchcore(
    embeddings: np.ndarray, image_names: list[str], config: PatchCoreConfig | None = None
) -> PatchCoreBank:
    """Enroll normal images from scratch.

    Args:
        embeddings: float32 (N, h, w, C) aggregated patch features of N normal images.
        image_names: N names (kept for the nearest-normal explanation).
        config: enrollment settings.

    Returns:
        Bank with round(coreset_ratio * N * h * w) rows (at least 1).
    """
    config = config or PatchCoreConfig()
    if embeddings.ndim != 4 or len(embeddings) != len(image_names) or len(embeddings) == 0:
        raise ValueError("embeddings must be (N, h, w, C) with one name per image, N >= 1")
    _n, _h, _w, c = embeddings.shape
    flat = embeddings.reshape(-1, c).astype(np.float32, copy=False)
    weight = np.ones(c, dtype=np.float32)
    weight[: config.shallow_channels] = config.shallow_weight
    rng = np.random.default_rng(config.seed)
    mean, basis = _fit_projection(flat * weight, config.search_dim, rng)
    empty = PatchCoreBank(
        bank=np.empty((0, c), np.float32),
        sources=np.empty((0, 2), np.int32),
        image_names=[],
        channel_weight=weight,
        proj_mean=mean,
        proj=basis,
    )
    return add_normals(empty, embeddings, image_names, config)


def add_normals(
    bank: PatchCoreBank,
    embeddings: np.ndarray,
    image_names: list[str],
    config: PatchCoreConfig | None = None,
) -> PatchCoreBank:
    """Incremental enrollment: add new normal images without rebuilding the bank.

    The greedy coreset walk starts from the distances to the existing bank, so only patches the
    bank does not already cover are added (coreset_ratio of the new patches). The projection is
    kept, so existing rows, thresholds and the search space stay valid.

    Returns:
        A new bank (the input is not modified).
    """
    config = config or PatchCoreConfig()
    _n, h, w, c = embeddings.shape
    if c != bank.bank.shape[1]:
        raise ValueError(f"feature size {c} does not match the bank's {bank.bank.shape[1]}")
    flat = embeddings.reshape(-1, c).astype(np.float32, copy=False)
    searched = project(flat, bank)
    existing = project(bank.bank, bank) if len(bank.bank) else None
    n_select = max(1, round(config.coreset_ratio * len(flat)))
    picked = k_center_greedy(searched, n_select, seed=config.seed, existing=existing)
    offset = len(bank.image_names)
    sources = np.stack([picked // (h * w) + offset, picked % (h * w)], axis=1).astype(np.int32)
    return PatchCoreBank(
        bank=np.concatenate([bank.bank, flat[picked]]),
        sources=np.concatenate([bank.sources, sources]),
        image_names=[*bank.image_names, *image_names],
        channel_weight=bank.channel_weight,
        proj_mean=bank.proj_mean,
        proj=bank.proj,
    )
