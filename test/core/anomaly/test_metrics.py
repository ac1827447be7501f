"""AUROC and margin against sklearn."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from inspection_nodes.core.anomaly.metrics import auroc, score_margin


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auroc_matches_sklearn_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.normal(size=500) + y, 1)  # rounding creates ties
    assert auroc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_auroc_extremes_and_margin() -> None:
    assert auroc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert auroc([0, 0, 1, 1], [0.4, 0.3, 0.2, 0.1]) == 0.0
    assert score_margin([0, 0, 1], [0.1, 0.5, 0.7]) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="both"):
        auroc([1, 1], [0.1, 0.2])
