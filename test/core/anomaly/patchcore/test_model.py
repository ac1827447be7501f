"""PatchCore scoring: kNN in the projected search space, inverted lists, explanations."""

import faiss
import numpy as np
import pytest

from inspection_nodes.core.anomaly.patchcore.fit import PatchCoreConfig, fit_patchcore
from inspection_nodes.core.anomaly.patchcore.model import (
    IVF_MIN_ROWS,
    PatchCoreModel,
    build_search_index,
    configure_search_threads,
)

CFG = PatchCoreConfig(coreset_ratio=0.5, shallow_channels=2, search_dim=4)


def _normals(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 4, 4, 8)).astype(np.float32)


def test_known_point_scores_zero_and_outlier_scores_high() -> None:
    feats = _normals(6)
    bank = fit_patchcore(feats, [f"img{i}" for i in range(6)], CFG)
    assert len(bank.bank) == round(0.5 * 6 * 16) and bank.sources.shape == (len(bank.bank), 2)
    model = PatchCoreModel(bank, num_patches=16)
    queries = np.repeat(bank.bank[:1], 16, axis=0)
    queries[5] += 100.0
    pixel, image, rows = model.score_patches(queries)
    assert pixel[0] == pytest.approx(0.0, abs=1e-3) and image[0] == pytest.approx(0.0, abs=1e-3)
    assert np.argmax(pixel) == 5 and np.argmax(image) == 5 and rows[0] == 0


def test_knn_matches_brute_force_in_search_space() -> None:
    feats = _normals(5, seed=1)
    bank = fit_patchcore(feats, list("abcde"), CFG)
    model = PatchCoreModel(bank, num_patches=16)
    q = _normals(1, seed=2).reshape(16, 8)
    pixel, image, rows = model.score_patches(q)
    proj = (q * bank.channel_weight - bank.proj_mean) @ bank.proj
    ref = (bank.bank * bank.channel_weight - bank.proj_mean) @ bank.proj
    d = np.sqrt(((proj[:, None] - ref[None]) ** 2).sum(-1))
    np.testing.assert_allclose(pixel, d.min(1), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(rows, d.argmin(1))
    np.testing.assert_allclose(image, np.linalg.norm(q - bank.bank[rows], axis=1), rtol=1e-5)


def test_large_banks_use_inverted_lists_that_find_the_exact_neighbour_nearly_always() -> None:
    """Patch features are clustered (parts repeat); the IVF search must return the exact
    nearest row for almost every query and never a much farther one."""
    rng = np.random.default_rng(3)
    centres = rng.normal(scale=4.0, size=(40, 16))
    rows = centres[rng.integers(0, 40, 5000)] + rng.normal(size=(5000, 16))
    bank = np.ascontiguousarray(rows, dtype=np.float32)
    queries = np.ascontiguousarray(
        centres[rng.integers(0, 40, 784)] + rng.normal(size=(784, 16)), dtype=np.float32
    )
    index = build_search_index(bank)
    assert type(index).__name__ == "IndexIVFFlat" and index.nprobe >= 1
    assert type(build_search_index(bank[: IVF_MIN_ROWS - 1])).__name__ == "IndexFlatL2"
    found, _ = index.search(queries, 1)
    exact = ((queries[:, None, :] - bank[None, :, :]) ** 2).sum(-1).min(1)
    assert np.mean(np.isclose(found[:, 0], exact, rtol=1e-4)) > 0.97
    assert np.all(np.sqrt(found[:, 0]) <= np.sqrt(exact) * 1.5 + 1e-6)


def test_nearest_images_names_source_of_matching_patch() -> None:
    feats = _normals(4, seed=3)
    bank = fit_patchcore(feats, ["w", "x", "y", "z"], CFG)
    model = PatchCoreModel(bank, num_patches=16)
    row = 7
    name = bank.image_names[bank.sources[row, 0]]
    assert model.nearest_images(bank.bank[row], k=2)[0] == name


def test_an_empty_bank_is_refused():
    bank = fit_patchcore(_normals(1), ["a"], CFG)
    bank.bank = bank.bank[:0]
    with pytest.raises(ValueError, match="empty"):
        PatchCoreModel(bank, 16)


def test_search_threads_are_set_only_when_asked():
    before = faiss.omp_get_max_threads()
    try:
        configure_search_threads()
        assert faiss.omp_get_max_threads() == 1
        assert faiss.cvar.distance_compute_blas_threshold == 20
    finally:
        faiss.omp_set_num_threads(before)
