"""The pictures: right size and type, and they show what they claim (level colour, bars)."""

from __future__ import annotations

import numpy as np

from inspection_nodes.core.stability.index import Level, StabilityConfig, StabilityState
from inspection_nodes.core.stability.plot import LEVEL_COLOURS, render_histogram, render_index


def _count(img: np.ndarray, colour: tuple[int, int, int]) -> int:
    return int(np.all(img == colour, axis=2).sum())


def test_index_plot_draws_history_levels_and_bars() -> None:
    comps = {"score_p50": (1.2, 0.2), "luminance": (-0.3, 3.0), "colour": (0.0, float("nan"))}
    state = StabilityState(30, 3.0, Level.RECALIBRATE, comps, "enrollment")
    img = render_index([0.1, 0.2, float("nan"), 3.0], state, StabilityConfig(), (480, 320))
    assert img.shape == (320, 480, 3) and img.dtype == np.uint8
    red, green = LEVEL_COLOURS[Level.RECALIBRATE], LEVEL_COLOURS[Level.OK]
    assert _count(img, red) > 500 and _count(img, green) > 50  # luminance bar red, p50 green
    empty = render_index([], StabilityState(0, 0.0, Level.OK, {}, ""), StabilityConfig())
    assert empty.shape == (320, 480, 3)


def test_histogram_shows_both_samples_and_thresholds() -> None:
    img = render_histogram(np.array([5.0, 6.0, 6.5]), np.array([2.0, 2.5]), 4.0, 3.0, "t")
    assert img.shape == (360, 640, 3) and img.dtype == np.uint8
    assert _count(img, (31, 119, 180)) > 100 and _count(img, (255, 127, 14)) > 100
    same = render_histogram(np.ones(3), np.ones(2), float("nan"), 1.0, "flat")
    assert same.std() > 0
