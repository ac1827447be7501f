"""Fires reject pulses at capture time + delay on the monotonic clock, from its own thread.

The rclpy executor is not a timer: a callback can run milliseconds late. Here one thread sleeps
until just before each edge and spins the last fraction of a millisecond, so edges land within
a fraction of a millisecond of their time. An edge that cannot be driven within
`late_tolerance_ns` of its time is not driven at all and is reported LATE: a reject at the
wrong moment would push the wrong part.
"""

from __future__ import annotations

import heapq
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from inspection_nodes.core.actuation.output import OutputError, ReconnectingOutput

NS_PER_MS = 1_000_000
COARSE_MARGIN_NS = 1_500_000  # wake this long before an edge, then sleep finely
SPIN_NS = 250_000  # spin (no sleep) for the last quarter millisecond
# Python hands the GIL to a waiting thread only every switch interval (5 ms by default): a woken
# scheduler would wait that long behind the executor's callbacks. The actuator process trades a
# little throughput for edges on time by asking for the GIL back much sooner.
GIL_SWITCH_INTERVAL_S = 0.0002
REALTIME_PRIORITY = 10  # SCHED_FIFO priority of the scheduler thread, when permitted


class Outcome(IntEnum):
    """Same codes as ActuatorEvent's constants."""

    FIRED = 0
    LATE = 1
    MISSED = 2
    DUPLICATE = 3
    SKIPPED = 4


@dataclass(frozen=True)
class Pulse:
    """One reject: drive the line at `fire_at_ns` (monotonic) for `width_ns`."""

    stamp_ns: int
    unit_id: str
    fire_at_ns: int
    width_ns: int
    detail: str = ""


@dataclass(frozen=True)
class ActuationEvent:
    outcome: Outcome
    stamp_ns: int
    unit_id: str
    timing_error_ms: float = 0.0
    pulse_width_ms: float = 0.0
    detail: str = ""


def fire_time_ns(stamp_wall_ns: int, delay_ns: int, wall_now_ns: int, mono_now_ns: int) -> int:
    """Capture stamp (wall clock, taken by the camera) to a monotonic fire time."""
    return mono_now_ns - (wall_now_ns - stamp_wall_ns) + delay_ns


class PulseScheduler:
    """A heap of edges served by one thread; events go to `on_event` (keep it cheap)."""

    def __init__(
        self,
        output: ReconnectingOutput,
        late_tolerance_ns: int,
        on_event: Callable[[ActuationEvent], None],
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self._output = output
        self._tolerance = late_tolerance_ns
        self._on_event = on_event
        self._clock = clock
        self._cond = threading.Condition()
        self._heap: list[tuple[int, int, bool, Pulse]] = []
        self._seq = 0
        self._off_seq = -1  # the OFF edge that ends the pulse on the line now (-1: line off)
        self._on_since = 0
        self._on_pulses: list[tuple[Pulse, float, str]] = []  # units served by the pulse now on
        self._running = False
        self._thread: threading.Thread | None = None
        self.realtime = False  # whether the thread got SCHED_FIFO

    def start(self) -> None:
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
        with self._cond:
            self._running = True
        self._thread = threading.Thread(target=self._run, name="pulse-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread; pulses not yet fired are reported MISSED, the line is left off."""
        with self._cond:
            self._running = False
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        with self._cond:
            pending, self._heap = self._heap, []
        for _, _, is_on, pulse in sorted(pending):
            if is_on:
                self._emit(Outcome.MISSED, pulse, detail="actuator stopped before fire time")
        if self._off_seq >= 0:
            self._drive(False)
            self._off_seq = -1
            for fired, error_ms, _ in self._on_pulses:
                self._emit(Outcome.FIRED, fired, error_ms, "cut short: actuator stopped")
            self._on_pulses = []

    def schedule(self, pulse: Pulse) -> ActuationEvent | None:
        """Queue a pulse; a pulse already past its time (+ tolerance) is LATE, never fired."""
        late_ns = self._clock() - pulse.fire_at_ns
        if late_ns > self._tolerance:
            return self._event(
                Outcome.LATE, pulse, late_ns / NS_PER_MS, detail="verdict after fire time"
            )
        with self._cond:
            self._push(pulse.fire_at_ns, True, pulse)
            self._cond.notify()
        return None

    def _push(self, at_ns: int, is_on: bool, pulse: Pulse) -> int:
        self._seq += 1
        heapq.heappush(self._heap, (at_ns, self._seq, is_on, pulse))
        return self._seq

    def _run(self) -> None:
        self.realtime = try_realtime()
        while True:
            with self._cond:
                if not self._running:
                    return
                if not self._heap:
                    self._cond.wait()
                    continue
                wait_ns = self._heap[0][0] - self._clock()
                if wait_ns > COARSE_MARGIN_NS:
                    self._cond.wait((wait_ns - COARSE_MARGIN_NS) / 1e9)
                    continue
                at_ns, seq, is_on, pulse = heapq.heappop(self._heap)
            self._sleep_until(at_ns)
            if is_on:
                self._fire(pulse, at_ns)
            elif seq == self._off_seq:
                self._end(pulse)

    def _sleep_until(self, at_ns: int) -> None:
        while (remaining := at_ns - self._clock()) > 0:
            if remaining > SPIN_NS:
                time.sleep((remaining - SPIN_NS) / 1e9)

    def _fire(self, pulse: Pulse, at_ns: int) -> None:
        sent_ns = self._clock()
        late_ms = (sent_ns - at_ns) / NS_PER_MS
        if sent_ns - at_ns > self._tolerance:
            self._emit(Outcome.LATE, pulse, late_ms, "scheduler woke too late")
            return
        merged = self._off_seq >= 0
        if not merged:
            try:
                self._output.write(True)
            except OutputError as exc:
                self._emit(Outcome.MISSED, pulse, late_ms, str(exc))
                return
            self._on_since = sent_ns
        # the OFF edge counts from when ON was sent, so a slow reply does not stretch the pulse;
        # a pulse still on from the previous unit is extended, never dropped
        with self._cond:
            self._off_seq = self._push(sent_ns + pulse.width_ns, False, pulse)
        self._on_pulses.append((pulse, late_ms, "merged with previous pulse" if merged else ""))

    def _end(self, pulse: Pulse) -> None:
        off_ns = self._clock()
        ok = self._drive(False)
        width_ms = (off_ns - self._on_since) / NS_PER_MS
        self._off_seq = -1
        served, self._on_pulses = self._on_pulses, []
        for fired, error_ms, detail in served:
            if not ok:
                detail = "off edge failed: line reset when the output reconnects"
            self._emit(Outcome.FIRED, fired, error_ms, detail, width_ms)

    def _drive(self, on: bool) -> bool:
        try:
            self._output.write(on)
        except OutputError:
            return False
        return True

    def _event(
        self,
        outcome: Outcome,
        pulse: Pulse,
        error_ms: float = 0.0,
        detail: str = "",
        width_ms: float = 0.0,
    ) -> ActuationEvent:
        text = "; ".join(t for t in (pulse.detail, detail) if t)
        return ActuationEvent(outcome, pulse.stamp_ns, pulse.unit_id, error_ms, width_ms, text)

    def _emit(
        self,
        outcome: Outcome,
        pulse: Pulse,
        error_ms: float = 0.0,
        detail: str = "",
        width_ms: float = 0.0,
    ) -> None:
        self._on_event(self._event(outcome, pulse, error_ms, detail, width_ms))


def try_realtime() -> bool:
    """Ask for SCHED_FIFO for the calling thread (and threads it starts later) so other
    processes cannot delay an edge. Needs CAP_SYS_NICE (or root); without it the thread keeps
    normal priority and the caller reports that."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(REALTIME_PRIORITY))
    except (OSError, AttributeError):
        return False
    return True
