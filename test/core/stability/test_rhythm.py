"""Line rhythm: period, overdue/stopped while it happens, missing units once the next arrives,
irregular spacing by autocorrelation, quiet on a steady line with jitter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inspection_nodes.core.stability.rhythm import (
    NS,
    RhythmConfig,
    RhythmMonitor,
    RhythmState,
    replay,
)

PERIOD = NS // 2  # 2 units per second


def steady(units: int, jitter: float = 0.03, seed: int = 0, start: int = 10 * NS) -> list[int]:
    rng = np.random.default_rng(seed)
    intervals = PERIOD * (1.0 + jitter * rng.standard_normal(units - 1))
    return [start, *(start + np.cumsum(intervals).astype(np.int64)).tolist()]


def fed(arrivals: list[int], config: RhythmConfig | None = None) -> RhythmMonitor:
    monitor = RhythmMonitor(config)
    for stamp in arrivals:
        monitor.add_unit(stamp)
    return monitor


def test_learning_until_enough_units_then_the_median_period():
    arrivals = steady(12)
    assert fed(arrivals[:7]).check(arrivals[6]).state is RhythmState.LEARNING
    report = fed(arrivals).check(arrivals[-1] + PERIOD // 4)
    assert report.state is RhythmState.OK and not report.alert
    assert report.period_s == pytest.approx(0.5, rel=0.05)
    assert report.periodicity > 0.8 and report.gap_s == pytest.approx(0.125)


def test_a_late_unit_is_overdue_at_one_and_a_half_periods_then_stopped_after_max_hold():
    arrivals = steady(40, jitter=0.0)
    monitor = fed(arrivals)
    last = arrivals[-1]
    assert monitor.check(last + int(1.4 * PERIOD)).state is RhythmState.OK
    overdue = monitor.check(last + int(1.6 * PERIOD))
    assert overdue.state is RhythmState.OVERDUE and overdue.alert
    assert monitor.check(last + 6 * NS).state is RhythmState.STOPPED
    monitor.add_unit(last + 10 * NS)  # the belt moves again
    after = monitor.check(last + 10 * NS + PERIOD // 4)
    assert after.state is RhythmState.STOPPED and "stopped 10.0 s" in after.detail
    assert (after.stops, after.missing_units) == (1, 0)


def test_the_stations_own_hold_limit_replaces_the_default_of_four_periods():
    arrivals = steady(40, jitter=0.0)
    monitor = fed(arrivals, RhythmConfig(max_hold_s=3.0))
    assert monitor.check(arrivals[-1] + int(2.5 * NS)).state is RhythmState.OVERDUE
    assert monitor.check(arrivals[-1] + int(3.5 * NS)).state is RhythmState.STOPPED


def test_a_unit_two_periods_late_is_one_missing_unit_and_the_alert_latches():
    arrivals = steady(40, jitter=0.0)
    monitor = fed(arrivals)
    monitor.add_unit(arrivals[-1] + 2 * PERIOD)
    report = monitor.check(arrivals[-1] + 2 * PERIOD + PERIOD // 4)
    assert report.state is RhythmState.MISSING and report.missing_units == 1
    for k in range(3, 9):  # the line goes on; the alert stays for latch_periods
        monitor.add_unit(arrivals[-1] + k * PERIOD)
    assert monitor.check(arrivals[-1] + 8 * PERIOD).state is RhythmState.OK
    assert monitor.missing_units == 1


def test_random_spacing_is_irregular_and_a_steady_line_is_not():
    rng = np.random.default_rng(3)
    erratic = (10 * NS + np.cumsum(rng.uniform(0.1, 1.4, 40) * PERIOD)).astype(np.int64)
    config = RhythmConfig(overdue_periods=9.0, stop_periods=20.0)  # judge the spacing only
    monitor = fed(erratic.tolist(), config)
    report = monitor.check(int(erratic[-1]) + PERIOD // 10)
    assert report.state is RhythmState.IRREGULAR and report.periodicity < 0.5
    assert fed(steady(40, jitter=0.08)).periodicity(PERIOD) > 0.7


def test_after_a_long_stop_only_the_new_arrivals_are_judged():
    """A night's stop must not turn the autocorrelation grid into millions of bins."""
    before = steady(30)
    after = steady(5, start=before[-1] + 8 * 3600 * NS)
    monitor = fed(before + after)
    assert math.isnan(monitor.periodicity(PERIOD))
    assert monitor.stops == 1


def test_out_of_order_stamps_are_ignored():
    arrivals = steady(20)
    monitor = fed(arrivals)
    monitor.add_unit(arrivals[5])
    assert monitor.check(arrivals[-1]).state is RhythmState.OK


def test_replay_of_a_steady_line_raises_nothing_and_a_planted_stop_within_a_period():
    arrivals = steady(300, jitter=0.05, seed=7)
    config = RhythmConfig()
    quiet = replay(arrivals, config, NS // 20, arrivals[-1])
    assert [r.state for _, r in quiet] == [RhythmState.LEARNING, RhythmState.OK]
    held = np.asarray(arrivals)
    held[151:] += 10 * NS
    changes = replay(held.tolist(), config, NS // 20, int(held[-1]))
    first_alert = next(t for t, r in changes if r.alert)
    due = arrivals[150] + PERIOD
    assert 0 <= first_alert - due <= PERIOD


@pytest.mark.parametrize(
    "bad",
    [
        {"min_units": 3},
        {"window": 10, "min_units": 12},
        {"overdue_periods": 1.0},
        {"missing_tolerance": 0.5},
        {"max_hold_s": -1.0},
        {"stop_periods": 1.2},
        {"min_periodicity": 1.0},
        {"periodicity_units": 100},
    ],
)
def test_bad_configs_are_refused(bad):
    with pytest.raises(ValueError):
        RhythmConfig(**bad)
