"""Free-run pacing on the monotonic clock: frame k is due at start + k / rate, no drift."""

from __future__ import annotations

import threading
import time


class Pacer:
    """Waits until the next frame is due; a rate of 0 never waits."""

    def __init__(self, rate_hz: float) -> None:
        self._period = 1.0 / rate_hz if rate_hz > 0 else 0.0
        self._next = time.monotonic()

    def wait(self, stop: threading.Event) -> bool:
        """Sleep until due; False if `stop` was set meanwhile. A late frame resets the schedule."""
        if self._period == 0.0:
            return not stop.is_set()
        now = time.monotonic()
        if self._next > now and stop.wait(self._next - now):
            return False
        self._next = max(self._next + self._period, time.monotonic())
        return True
