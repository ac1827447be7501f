"""When the camera may publish: after the graph is up, and while few enough units are open.

Start-up: the first frame waits until every configured subscriber and publisher exists (a loaded
stage), then a settle time so every other process matches the endpoints just seen; after
`timeout_s` it starts anyway and says what was missing. In flight: with a limit, a unit counts
from its capture until its verdict, and the camera waits while `limit` units are open (free run
for live cameras that cannot wait: limit 0).

    start = StartupWait(timeout_s=30.0, now=time.monotonic())
    if start.poll(now, missing_endpoints) is Startup.READY and not in_flight.full: publish
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum

SETTLE_S = 0.5  # after the graph is complete, before the first frame


class Startup(Enum):
    WAITING = "waiting"
    READY = "ready"
    GAVE_UP = "gave_up"  # the timeout passed with endpoints missing: starting incomplete


class StartupWait:
    """The first-frame wait (module docstring). Pure logic, the caller passes the clock."""

    def __init__(self, timeout_s: float, now: float, settle_s: float = SETTLE_S) -> None:
        self._deadline = now + timeout_s
        self._settle_s = settle_s
        self._ready_at: float | None = None
        self.missing: tuple[str, ...] = ()  # what was missing when the wait gave up

    def poll(self, now: float, missing: Callable[[], Sequence[str]]) -> Startup:
        """READY once the graph was complete for the settle time (or the wait gave up one poll
        earlier); GAVE_UP on the poll the timeout passes. `missing` is asked only while waiting."""
        if self._ready_at is not None:
            return Startup.READY if now >= self._ready_at else Startup.WAITING
        absent = tuple(missing())
        if not absent:
            self._ready_at = now + self._settle_s
            return Startup.WAITING
        if now > self._deadline:
            self.missing, self._ready_at = absent, now
            return Startup.GAVE_UP
        return Startup.WAITING


class InFlight:
    """Units published but not yet decided (by capture stamp); `limit` 0 means no limit."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError(f"max_in_flight must be >= 0, got {limit}")
        self.limit = limit
        self._open: set[int] = set()

    @property
    def full(self) -> bool:
        return self.limit > 0 and len(self._open) >= self.limit

    def opened(self, stamp_ns: int) -> None:
        if self.limit > 0:
            self._open.add(stamp_ns)

    def decided(self, stamp_ns: int) -> None:
        self._open.discard(stamp_ns)

    def __len__(self) -> int:
        return len(self._open)
