"""Latency statistics shared by the benchmarks and evaluations of every stage."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    """q-th percentile of durations in seconds, as milliseconds."""
    return float(np.percentile(np.asarray(seconds) * 1e3, q))
