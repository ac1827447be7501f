"""What the actuator decides before any edge: which units get a pulse, when, and fail-safes.

- FAIL verdict -> one pulse at capture + delay; PASS -> nothing (SKIPPED).
- A second verdict of a handled unit -> DUPLICATE, whatever order they came in.
- Fail-safe: a captured unit (`camera/unit`) with no verdict `verdict_timeout_ms` after capture
  gets a reject pulse anyway, so a dead, hung or disconnected gate cannot let parts pass.
- Watchdog: no gate heartbeat for `gate_watchdog_ms` -> `gate_lost` (reported, PLC ERROR).
Every method takes the clocks as arguments, so the rules are tested without waiting.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

from inspection_nodes.core.actuation.dedup import SeenUnits, unit_key
from inspection_nodes.core.actuation.scheduler import (
    NS_PER_MS,
    ActuationEvent,
    Outcome,
    Pulse,
    fire_time_ns,
)

BACKENDS = ("modbus", "gpio")
MAX_AWAITED = 4096  # captured units waiting for a verdict (bounded memory)


@dataclass(frozen=True)
class ActuatorConfig:
    delay_ms: float = 500.0
    pulse_width_ms: float = 20.0
    late_tolerance_ms: float = 5.0
    verdict_timeout_ms: float = 400.0
    gate_watchdog_ms: float = 500.0
    dedup_capacity: int = 4096

    def validate(self) -> ActuatorConfig:
        checks = (
            ("delay_ms", self.delay_ms > 0, "must be > 0"),
            ("pulse_width_ms", self.pulse_width_ms > 0, "must be > 0"),
            ("late_tolerance_ms", self.late_tolerance_ms >= 0, "must be >= 0"),
            ("verdict_timeout_ms", self.verdict_timeout_ms > 0, "must be > 0"),
            (
                "verdict_timeout_ms",
                self.verdict_timeout_ms + self.late_tolerance_ms < self.delay_ms,
                f"must be < delay_ms={self.delay_ms:g} minus late_tolerance_ms, or the "
                "fail-safe reject would come too late",
            ),
            ("gate_watchdog_ms", self.gate_watchdog_ms > 0, "must be > 0"),
            ("dedup_capacity", self.dedup_capacity >= 1, "must be >= 1"),
        )
        for name, ok, why in checks:
            value = getattr(self, name)
            if not ok or (isinstance(value, float) and not math.isfinite(value)):
                raise ValueError(f"actuator parameter {name}={value!r} {why}")
        return self


@dataclass(frozen=True)
class Clocks:
    """Wall clock (capture stamps) and monotonic clock (firing), sampled together."""

    wall_ns: int
    mono_ns: int


class Actuator:
    """Turns verdicts and captures into pulses for a scheduler (`schedule(pulse)`)."""

    def __init__(self, config: ActuatorConfig, scheduler) -> None:
        self.config = config.validate()
        self._scheduler = scheduler
        self._seen = SeenUnits(config.dedup_capacity)
        self._awaited: OrderedDict[str, tuple[int, str]] = OrderedDict()  # unit -> capture
        self._last_heartbeat_mono: int | None = None
        self.gate_lost = False

    @property
    def awaiting(self) -> int:
        return len(self._awaited)

    def on_capture(self, stamp_ns: int, unit_id: str) -> None:
        """Remember a unit until its verdict; views of one unit share the first stamp."""
        key = unit_id or str(stamp_ns)
        if key not in self._awaited and unit_key(stamp_ns, unit_id) not in self._seen:
            self._awaited[key] = (stamp_ns, unit_id)
            while len(self._awaited) > MAX_AWAITED:
                self._awaited.popitem(last=False)

    def on_verdict(
        self, stamp_ns: int, unit_id: str, passed: bool, clocks: Clocks
    ) -> ActuationEvent | None:
        """SKIPPED, DUPLICATE or LATE at once; None when a pulse was scheduled."""
        self._awaited.pop(unit_id or str(stamp_ns), None)
        if not self._seen.add(unit_key(stamp_ns, unit_id)):
            return ActuationEvent(
                Outcome.DUPLICATE, stamp_ns, unit_id, detail="unit already handled"
            )
        if passed:
            return ActuationEvent(Outcome.SKIPPED, stamp_ns, unit_id, detail="PASS")
        return self._pulse(stamp_ns, unit_id, clocks, "")

    def on_heartbeat(self, mono_ns: int) -> None:
        self._last_heartbeat_mono = mono_ns

    def tick(self, clocks: Clocks) -> tuple[list[ActuationEvent], bool | None]:
        """Fail-safe rejects for units without a verdict; and the watchdog's change, if any
        (True = gate lost, False = gate back, None = no change)."""
        events = []
        timeout_ns = int(self.config.verdict_timeout_ms * NS_PER_MS)
        while self._awaited:
            key, (stamp_ns, unit_id) = next(iter(self._awaited.items()))
            if clocks.wall_ns - stamp_ns <= timeout_ns:
                break
            del self._awaited[key]
            if self._seen.add(unit_key(stamp_ns, unit_id)):
                detail = (
                    f"fail-safe: no verdict {self.config.verdict_timeout_ms:g} ms after capture"
                )
                event = self._pulse(stamp_ns, unit_id, clocks, detail)
                if event is not None:
                    events.append(event)
        return events, self._watchdog(clocks.mono_ns)

    def _watchdog(self, mono_ns: int) -> bool | None:
        last = self._last_heartbeat_mono
        limit_ns = self.config.gate_watchdog_ms * NS_PER_MS
        lost = last is None or mono_ns - last > limit_ns
        if last is None and not self.gate_lost:
            # no heartbeat yet: give the gate one watchdog period from the first tick
            self._last_heartbeat_mono = mono_ns
            return None
        if lost != self.gate_lost:
            self.gate_lost = lost
            return lost
        return None

    def _pulse(
        self, stamp_ns: int, unit_id: str, clocks: Clocks, detail: str
    ) -> ActuationEvent | None:
        delay_ns = int(self.config.delay_ms * NS_PER_MS)
        fire_at = fire_time_ns(stamp_ns, delay_ns, clocks.wall_ns, clocks.mono_ns)
        width_ns = int(self.config.pulse_width_ms * NS_PER_MS)
        return self._scheduler.schedule(Pulse(stamp_ns, unit_id, fire_at, width_ns, detail))
