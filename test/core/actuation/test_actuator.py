"""Which units get a pulse: dedup, PASS, out-of-order, fail-safe and watchdog (pure logic)."""

from __future__ import annotations

import pytest

from inspection_nodes.core.actuation.actuator import Actuator, ActuatorConfig, Clocks
from inspection_nodes.core.actuation.dedup import SeenUnits
from inspection_nodes.core.actuation.scheduler import Outcome, Pulse

MS = 1_000_000
T0 = 1_700_000_000_000_000_000
MONO0 = 5_000 * MS


class RecordingScheduler:
    """Stands in for PulseScheduler in this unit test: keeps the pulses it is given."""

    def __init__(self) -> None:
        self.pulses: list[Pulse] = []

    def schedule(self, pulse: Pulse) -> None:
        self.pulses.append(pulse)


def clocks(after_ms: float) -> Clocks:
    return Clocks(T0 + int(after_ms * MS), MONO0 + int(after_ms * MS))


@pytest.fixture
def act():
    return Actuator(ActuatorConfig(delay_ms=500, verdict_timeout_ms=300), RecordingScheduler())


def test_fail_schedules_one_pulse_at_capture_plus_delay(act):
    assert act.on_verdict(T0, "u1", False, clocks(40)) is None
    [pulse] = act._scheduler.pulses
    assert pulse.fire_at_ns == MONO0 + 500 * MS and pulse.width_ns == 20 * MS


def test_pass_skipped_and_duplicates_ignored_in_any_order(act):
    assert act.on_verdict(T0 + 2, "u3", False, clocks(40)) is None
    assert act.on_verdict(T0 + 1, "u2", True, clocks(41)).outcome == Outcome.SKIPPED
    assert act.on_verdict(T0, "u1", False, clocks(42)) is None
    assert act.on_verdict(T0 + 2, "u3", False, clocks(43)).outcome == Outcome.DUPLICATE
    assert act.on_verdict(T0 + 1, "u2", False, clocks(44)).outcome == Outcome.DUPLICATE
    assert [p.unit_id for p in act._scheduler.pulses] == ["u3", "u1"]


def test_unit_without_verdict_gets_fail_safe_reject(act):
    act.on_capture(T0, "u1")
    act.on_capture(T0 + 10 * MS, "u2")
    act.on_verdict(T0 + 10 * MS, "u2", True, clocks(60))
    assert act.tick(clocks(300))[0] == []
    act.tick(clocks(301))
    [pulse] = act._scheduler.pulses
    assert pulse.unit_id == "u1" and "fail-safe" in pulse.detail
    assert act.on_verdict(T0, "u1", True, clocks(302)).outcome == Outcome.DUPLICATE


def test_watchdog_reports_loss_and_recovery(act):
    assert act.tick(clocks(0))[1] is None
    act.on_heartbeat(MONO0 + 100 * MS)
    assert act.tick(clocks(600))[1] is None
    assert act.tick(clocks(601))[1] is True and act.gate_lost
    assert act.tick(clocks(700))[1] is None
    act.on_heartbeat(MONO0 + 710 * MS)
    assert act.tick(clocks(711))[1] is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"delay_ms": 0.0}, "delay_ms=0.0 must be > 0"),
        ({"pulse_width_ms": -1.0}, "pulse_width_ms"),
        ({"verdict_timeout_ms": 499.0}, "fail-safe reject would come too late"),
        ({"gate_watchdog_ms": float("nan")}, "gate_watchdog_ms=nan"),
        ({"dedup_capacity": 0}, "dedup_capacity=0"),
    ],
)
def test_bad_config_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ActuatorConfig(**kwargs).validate()


def test_dedup_memory_is_bounded():
    seen = SeenUnits(2)
    assert seen.add("a") and seen.add("b") and not seen.add("a")
    assert seen.add("c") and "a" not in seen and seen.add("a")
