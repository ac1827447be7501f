"""Greedy k-center coreset subsampling (PatchCore, Roth et al. 2022, section 3.2).

Picks rows so that every row of the full bank is as close as possible to a picked one (minimax
facility location). As in anomalib the distances are computed in a random projection (here a
dense Gaussian one to at most 128 dimensions) which keeps distance ranks while making each of
the M iterations O(N * 128). Each iteration is one BLAS matrix-vector product plus a vectorised
min-update, no Python per-row loop.
"""

from __future__ import annotations

import numpy as np

PROJECTION_DIM = 128


def k_center_greedy(
    features: np.ndarray,
    n_select: int,
    seed: int = 0,
    existing: np.ndarray | None = None,
    projection_dim: int = PROJECTION_DIM,
) -> np.ndarray:
    """Select `n_select` row indices of `features` by greedy k-center.

    Args:
        features: float32 (N, D) candidate patch features.
        n_select: how many rows to pick (clipped to N).
        seed: seeds the projection and, without `existing`, the first center.
        existing: optional float32 (M, D) already-selected bank. The greedy walk then starts from
            the distances to it, so incremental enrollment adds only patches that the current bank
            does not already cover.
        projection_dim: random projection size for the distance computations.

    Returns:
        int64 (n_select,) indices into `features`, in selection order.
    """
    n = features.shape[0]
    n_select = int(min(max(n_select, 0), n))
    if n_select == 0:
        return np.empty(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    dim = min(projection_dim, features.shape[1])
    proj = None
    if features.shape[1] > dim:
        proj = (rng.standard_normal((features.shape[1], dim)) / np.sqrt(dim)).astype(np.float32)
    x = features.astype(np.float32, copy=False)
    x = x @ proj if proj is not None else np.ascontiguousarray(x)
    sq = np.einsum("ij,ij->i", x, x)
    min_dist = np.full(n, np.inf, dtype=np.float32)
    if existing is not None and len(existing):
        e = existing.astype(np.float32, copy=False)
        e = e @ proj if proj is not None else e
        e_sq = np.einsum("ij,ij->i", e, e)
        for start in range(0, len(e), 4096):  # chunked: (N, 4096) at most in memory
            stop = start + 4096
            block = sq[:, None] - 2.0 * (x @ e[start:stop].T) + e_sq[None, start:stop]
            np.minimum(min_dist, block.min(axis=1), out=min_dist)
        current = int(np.argmax(min_dist))
    else:
        current = int(rng.integers(n))
    selected = np.empty(n_select, dtype=np.int64)
    dist = np.empty(n, dtype=np.float32)
    for i in range(n_select):
        selected[i] = current
        center = x[current]
        np.dot(x, center, out=dist)
        dist *= -2.0
        dist += sq
        dist += sq[current]
        np.minimum(min_dist, dist, out=min_dist)
        min_dist[current] = -1.0  # never pick the same row twice
        current = int(np.argmax(min_dist))
    return selected
