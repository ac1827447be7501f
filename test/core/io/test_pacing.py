"""The camera's pacing: the first-frame wait (graph complete, settle, timeout) and the in-flight
limit, driven with an explicit clock."""

import pytest

from inspection_nodes.core.io.pacing import SETTLE_S, InFlight, Startup, StartupWait


def test_first_frame_waits_for_the_graph_then_the_settle_time():
    wait = StartupWait(timeout_s=30.0, now=0.0)
    missing = ["roi/image"]
    assert wait.poll(1.0, lambda: missing) is Startup.WAITING
    missing.clear()
    assert wait.poll(2.0, lambda: missing) is Startup.WAITING  # complete: settle starts
    assert wait.poll(2.0 + SETTLE_S / 2, lambda: ["asked again"]) is Startup.WAITING
    assert wait.poll(2.0 + SETTLE_S, lambda: ["asked again"]) is Startup.READY


def test_after_the_timeout_it_starts_anyway_and_says_what_was_missing():
    wait = StartupWait(timeout_s=5.0, now=100.0)
    assert wait.poll(104.0, lambda: ["camera/unit"]) is Startup.WAITING
    assert wait.poll(105.5, lambda: ["camera/unit"]) is Startup.GAVE_UP
    assert wait.missing == ("camera/unit",)
    assert wait.poll(105.5, lambda: ["camera/unit"]) is Startup.READY


def test_in_flight_limit_counts_units_until_their_verdict():
    free = InFlight(0)
    free.opened(1)
    assert not free.full and len(free) == 0  # free run: nothing is tracked
    limited = InFlight(2)
    limited.opened(1)
    limited.opened(2)
    assert limited.full
    limited.decided(1)
    limited.decided(99)  # a verdict of a unit never tracked changes nothing
    assert not limited.full and len(limited) == 1
    with pytest.raises(ValueError, match=">= 0"):
        InFlight(-1)
