"""Building and growing a PatchCore memory bank: coreset size, incremental enrollment."""

import numpy as np
import pytest

from inspection_nodes.core.anomaly.patchcore.fit import PatchCoreConfig, add_normals, fit_patchcore
from inspection_nodes.core.anomaly.patchcore.model import PatchCoreModel

CFG = PatchCoreConfig(coreset_ratio=0.5, shallow_channels=2, search_dim=4)


def _normals(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 4, 4, 8)).astype(np.float32)


def test_incremental_enrollment_adds_only_new_coverage() -> None:
    feats = _normals(4)
    bank = fit_patchcore(feats, list("abcd"), CFG)
    again = add_normals(bank, feats[:1], ["a2"], CFG)  # nothing new: duplicates of bank rows
    assert len(again.bank) == len(bank.bank) + 8 and again.image_names[-1] == "a2"
    np.testing.assert_array_equal(again.bank[: len(bank.bank)], bank.bank)
    shifted = feats[:1] + 50.0  # a new kind of normal: its patches must become reachable
    grown = add_normals(bank, shifted, ["new"], CFG)
    before = PatchCoreModel(bank, 16).score_patches(shifted.reshape(16, 8))[0].max()
    after = PatchCoreModel(grown, 16).score_patches(shifted.reshape(16, 8))[0].max()
    assert after < 0.5 * before
    assert (grown.sources[len(bank.bank) :, 0] == 4).all()


def test_bank_rows_know_their_source_and_config_is_checked():
    bank = fit_patchcore(_normals(3), ["a", "b", "c"], CFG)
    assert len(bank.bank) == round(0.5 * 3 * 16) == bank.size
    assert set(bank.sources[:, 0]) <= {0, 1, 2} and (bank.sources[:, 1] < 16).all()
    assert bank.proj.shape == (8, 4) and bank.channel_weight[:2].tolist() == [1.5, 1.5]
    with pytest.raises(ValueError, match="coreset_ratio"):
        PatchCoreConfig(coreset_ratio=0.0)
    with pytest.raises(ValueError, match="feature size"):
        add_normals(bank, np.zeros((1, 4, 4, 9), np.float32), ["x"], CFG)
