"""Latency percentiles in milliseconds, checked against numpy on the same input."""

import numpy as np
import pytest

from inspection_nodes.core.common.timing import percentile_ms


def test_percentiles_of_seconds_are_milliseconds():
    seconds = [0.001, 0.002, 0.003, 0.004, 0.010]
    assert percentile_ms(seconds, 50) == pytest.approx(3.0)
    assert percentile_ms(seconds, 99) == pytest.approx(np.percentile(seconds, 99) * 1e3)
