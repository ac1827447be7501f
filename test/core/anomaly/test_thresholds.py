"""Thresholds from good images only."""

import numpy as np
import pytest

from inspection_nodes.core.anomaly.thresholds import (
    Thresholds,
    calibrate,
    calibrate_value,
    split_holdout,
)


def test_quantile_plus_margin() -> None:
    scores = np.arange(101, dtype=float)  # median 50, q99 = 99
    assert calibrate_value(scores, 0.99, 0.25) == pytest.approx(99 + 0.25 * 49)
    assert calibrate_value(scores, 1.0, 0.0) == 100


def test_calibrate_is_above_all_good_scores_and_round_trips() -> None:
    rng = np.random.default_rng(0)
    img = rng.normal(10, 1, 12)
    pix = rng.normal(2, 0.5, (12, 32, 32))
    t = calibrate(img, pix)
    assert t.image > np.quantile(img, 0.99) and t.pixel > np.quantile(pix, 0.999)
    assert t.n_holdout_images == 12
    assert Thresholds.from_dict(t.to_dict()) == t


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="zero"):
        calibrate_value(np.array([]))
    with pytest.raises(ValueError, match="quantile"):
        calibrate_value(np.ones(3), quantile=0.0)
    with pytest.raises(ValueError, match="at least 2"):
        split_holdout(1)


def test_split_holdout_is_disjoint_and_deterministic() -> None:
    fit, hold = split_holdout(60, 0.2, seed=3)
    assert len(hold) == 12 and len(fit) == 48 and not set(fit) & set(hold)
    assert np.array_equal(hold, split_holdout(60, 0.2, seed=3)[1])
    assert len(split_holdout(2, 0.2)[1]) == 1
