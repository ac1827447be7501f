"""k-center greedy coreset."""

import numpy as np

from inspection_nodes.core.anomaly.patchcore.sampling import k_center_greedy


def _coverage_radius(x: np.ndarray, picked: np.ndarray) -> float:
    d = ((x[:, None, :] - x[picked][None, :, :]) ** 2).sum(-1)
    return float(np.sqrt(d.min(1).max()))


def test_picks_unique_rows_in_range() -> None:
    x = np.random.default_rng(0).normal(size=(500, 16)).astype(np.float32)
    idx = k_center_greedy(x, 50)
    assert len(idx) == 50 and len(set(idx.tolist())) == 50
    assert idx.min() >= 0 and idx.max() < 500


def test_covers_every_cluster_before_repeating() -> None:
    # 5 tight, far-apart clusters: the first 5 picks must hit all of them (random would not).
    rng = np.random.default_rng(1)
    centers = rng.normal(scale=100, size=(5, 8))
    x = np.concatenate([c + rng.normal(scale=0.1, size=(200, 8)) for c in centers])
    idx = k_center_greedy(x.astype(np.float32), 5)
    assert sorted(set((idx // 200).tolist())) == [0, 1, 2, 3, 4]


def test_better_coverage_than_random_subset() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_exponential(size=(2000, 4)).astype(np.float32)
    greedy = _coverage_radius(x, k_center_greedy(x, 40))
    random = _coverage_radius(x, rng.choice(2000, 40, replace=False))
    assert greedy < 0.8 * random


def test_projection_path_and_existing_bank() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 200)).astype(np.float32)  # > 128 dims: projected
    idx = k_center_greedy(x, 10, seed=4)
    assert len(set(idx.tolist())) == 10
    # rows identical to the existing bank are covered already: never picked first
    new = np.concatenate([x[:100], rng.normal(loc=50, size=(5, 200)).astype(np.float32)])
    first = k_center_greedy(new, 5, existing=x[:100])
    assert set(first.tolist()) == {100, 101, 102, 103, 104}


def test_edge_sizes() -> None:
    x = np.zeros((3, 2), np.float32)
    assert len(k_center_greedy(x, 0)) == 0
    assert len(k_center_greedy(x, 10)) == 3
