"""Line rhythm: is the production line still presenting units at its pace?

A sliding window of unit arrival times (capture stamps) gives the line's period P (median
interval, robust to the gaps it is meant to find). Three ways a rhythm breaks, each with its own
detector:

  overdue / stopped  no unit for overdue_periods x P (the next unit is late: a stop or a
                     missing unit, raised while it happens, 0.5 P after the unit was due with
                     the default 1.5); "stopped" once the belt has held for max_hold_s
  missing            a unit arrives k x P after the previous one (k >= 2, within tolerance and
                     shorter than the stop limit): k - 1 units never reached the camera
  irregular          the latest arrivals lose their periodicity: the autocorrelation of the
                     train of the last periodicity_units arrivals at lag P (1.0 for a steady
                     line, near 0 for random spacing) falls below min_periodicity (double
                     feeds, slipping belt, erratic pace)

A missing unit or a stop stays in the report (`alert`) for latch_periods x P after it was seen,
so a report published once a second still carries it. The period adapts to a new line speed
within half a window. All times are nanoseconds of the capture clock; `check(now_ns)` takes the
same clock, so the logic replays identically from a bag.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

NS = 1_000_000_000
BINS_PER_PERIOD = 8  # resolution of the arrival train for the autocorrelation


class RhythmState(StrEnum):
    LEARNING = "learning"  # fewer than min_units arrivals: no judgement yet
    OK = "ok"
    OVERDUE = "overdue"
    STOPPED = "stopped"
    MISSING = "missing"
    IRREGULAR = "irregular"


ALERTS = frozenset(
    {RhythmState.OVERDUE, RhythmState.STOPPED, RhythmState.MISSING, RhythmState.IRREGULAR}
)


@dataclass(frozen=True)
class RhythmConfig:
    window: int = 64
    min_units: int = 8
    overdue_periods: float = 1.5
    max_hold_s: float = 0.0  # 0: stop_periods x P
    stop_periods: float = 4.0
    missing_tolerance: float = 0.25  # |interval - k P| <= tolerance x P counts as k periods
    min_periodicity: float = 0.5
    periodicity_units: int = 16  # the latest arrivals the autocorrelation looks at
    latch_periods: float = 5.0

    def __post_init__(self) -> None:
        if self.min_units < 4 or self.window < self.min_units:
            raise ValueError(f"rhythm window {self.window} must be >= min_units >= 4")
        if not self.min_units <= self.periodicity_units <= self.window:
            raise ValueError(
                f"periodicity_units {self.periodicity_units} must be in [min_units, window]"
            )
        if not 1.0 < self.overdue_periods < 10.0:
            raise ValueError(f"overdue_periods {self.overdue_periods} must be in (1, 10)")
        if not 0.0 < self.missing_tolerance < 0.5:
            raise ValueError(f"missing_tolerance {self.missing_tolerance} must be in (0, 0.5)")
        if self.max_hold_s < 0 or self.latch_periods <= 0:
            raise ValueError("max_hold_s must be >= 0 and latch_periods > 0")
        if self.stop_periods <= self.overdue_periods:
            raise ValueError(f"stop_periods {self.stop_periods} must be > overdue_periods")
        if not 0.0 <= self.min_periodicity < 1.0:
            raise ValueError(f"min_periodicity {self.min_periodicity} must be in [0, 1)")

    def hold_limit_ns(self, period_ns: int) -> float:
        """How long the belt may hold before the line counts as stopped."""
        return self.max_hold_s * NS if self.max_hold_s > 0 else self.stop_periods * period_ns


@dataclass(frozen=True)
class RhythmReport:
    state: RhythmState
    period_s: float  # NaN while learning
    periodicity: float  # autocorrelation at lag P, NaN while learning
    gap_s: float  # time since the last unit
    missing_units: int  # since start
    stops: int  # since start
    detail: str

    @property
    def alert(self) -> bool:
        return self.state in ALERTS


@dataclass(frozen=True)
class _Event:
    state: RhythmState
    at_ns: int
    detail: str


class RhythmMonitor:
    """Feed every unit's capture stamp with `add_unit`; ask `check(now_ns)` as often as the
    alert should be timely (the stability node asks ten times a second)."""

    def __init__(self, config: RhythmConfig | None = None) -> None:
        self.config = config or RhythmConfig()
        self._arrivals: deque[int] = deque(maxlen=self.config.window + 1)
        self._event: _Event | None = None
        self.missing_units = 0
        self.stops = 0

    def add_unit(self, stamp_ns: int) -> None:
        """A unit arrived. Out-of-order stamps (two cameras, a replay) are ignored."""
        if self._arrivals and stamp_ns <= self._arrivals[-1]:
            return
        period = self.period_ns()
        if period is not None:
            self._classify_gap(stamp_ns - self._arrivals[-1], period, stamp_ns)
        self._arrivals.append(stamp_ns)

    def _classify_gap(self, interval: int, period: int, now_ns: int) -> None:
        k = round(interval / period)
        if interval > self.config.hold_limit_ns(period):
            self.stops += 1
            detail = f"line stopped {interval / NS:.1f} s (period {period / NS:.2f} s)"
            self._event = _Event(RhythmState.STOPPED, now_ns, detail)
        elif k >= 2 and abs(interval - k * period) <= self.config.missing_tolerance * period:
            self.missing_units += k - 1
            detail = f"{k - 1} unit(s) missing: {interval / NS:.2f} s after the previous one"
            self._event = _Event(
                RhythmState.MISSING, now_ns, f"{detail} (period {period / NS:.2f} s)"
            )

    def period_ns(self) -> int | None:
        """Median interval of the window, once min_units arrived."""
        if len(self._arrivals) < self.config.min_units:
            return None
        return int(np.median(np.diff(np.asarray(self._arrivals, dtype=np.int64))))

    def periodicity(self, period: int) -> float:
        """Autocorrelation of the window's arrival train at lag P (max over lag P +- 1 bin).

        Arrivals become unit impulses on a grid of P / 8, widened to a triangle over 3 bins so
        a little jitter does not count as irregular; 1.0 means every arrival has a neighbour
        one period later. Only arrivals since the last stop count (a stop is reported on its
        own, and a night's stop must not become a grid of millions of bins); NaN with fewer
        than min_units of them."""
        times = np.asarray(self._arrivals, dtype=np.int64)[-self.config.periodicity_units :]
        stops = np.nonzero(np.diff(times) > self.config.hold_limit_ns(period))[0]
        if stops.size:
            times = times[stops[-1] + 1 :]
        if len(times) < self.config.min_units:
            return float("nan")
        step = period / BINS_PER_PERIOD
        train = np.zeros(int((times[-1] - times[0]) / step) + 3)
        np.add.at(train, ((times - times[0]) / step).astype(np.int64) + 1, 1.0)
        train = np.convolve(train, [0.5, 1.0, 0.5], mode="same")
        energy = float(np.dot(train, train))
        lags = (BINS_PER_PERIOD - 1, BINS_PER_PERIOD, BINS_PER_PERIOD + 1)
        best = max(float(np.dot(train[:-lag], train[lag:])) for lag in lags)
        # a train of n arrivals has n - 1 neighbours: scale so a perfect line scores 1.0
        return min(1.0, best / energy * len(times) / (len(times) - 1))

    def check(self, now_ns: int) -> RhythmReport:
        period = self.period_ns()
        gap = (now_ns - self._arrivals[-1]) / NS if self._arrivals else float("nan")
        if period is None:
            return self._report(RhythmState.LEARNING, float("nan"), float("nan"), gap, "")
        periodicity = self.periodicity(period)
        state, detail = self._judge(now_ns, period, periodicity, gap)
        return self._report(state, period / NS, periodicity, gap, detail)

    def _judge(
        self, now_ns: int, period: int, periodicity: float, gap: float
    ) -> tuple[RhythmState, str]:
        if gap * NS > self.config.hold_limit_ns(period):
            return RhythmState.STOPPED, f"no unit for {gap:.1f} s: belt held or line stopped"
        if gap * NS > self.config.overdue_periods * period:
            return RhythmState.OVERDUE, f"no unit for {gap:.2f} s (period {period / NS:.2f} s)"
        event = self._event
        if event is not None and now_ns - event.at_ns <= self.config.latch_periods * period:
            return event.state, event.detail
        if periodicity < self.config.min_periodicity:
            return RhythmState.IRREGULAR, (
                f"arrivals lost their rhythm: periodicity {periodicity:.2f} "
                f"< {self.config.min_periodicity:.2f}"
            )
        return RhythmState.OK, ""

    def _report(
        self, state: RhythmState, period_s: float, periodicity: float, gap: float, detail: str
    ) -> RhythmReport:
        return RhythmReport(
            state, period_s, periodicity, gap, self.missing_units, self.stops, detail
        )


def replay(
    arrivals: list[int], config: RhythmConfig, step_ns: int, until_ns: int
) -> list[tuple[int, RhythmReport]]:
    """Replay arrival stamps through a monitor checked every `step_ns` (as a node's timer
    would) until `until_ns`; returns (check time, report) of every check whose state differs
    from the previous one, so the alerts and their times can be read off."""
    monitor = RhythmMonitor(config)
    changes: list[tuple[int, RhythmReport]] = []
    pending = iter(sorted(arrivals))
    upcoming = next(pending, None)
    last: RhythmState | None = None
    for now in range(arrivals[0], until_ns + 1, step_ns):
        while upcoming is not None and upcoming <= now:
            monitor.add_unit(upcoming)
            upcoming = next(pending, None)
        report = monitor.check(now)
        if report.state != last:
            changes.append((now, report))
            last = report.state
    return changes
