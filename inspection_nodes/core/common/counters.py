"""Named event counters of a node (frames in, rejections by reason, ...), reported as diagnostics.

Bad input is never silent: every rejection increments a counter whose name says why. Each node
declares the names it counts as a StrEnum (its own, plus those of the core pieces it runs, such as
`GateCounter`); declared counters are reported from start-up at 0, so a dashboard knows every
series before the first event, and a test checks that nothing counts an undeclared name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from threading import Lock


class EventCounters:
    """Thread-safe counters keyed by a short snake_case name."""

    def __init__(self, declared: Iterable[str] = ()) -> None:
        self.declared = frozenset(str(name) for name in declared)
        self._counts: Counter[str] = Counter({name: 0 for name in self.declared})
        self._lock = Lock()

    def inc(self, name: str, by: int = 1) -> None:
        with self._lock:
            self._counts[str(name)] += by

    def get(self, name: str) -> int:
        with self._lock:
            return self._counts[str(name)]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))
