"""Named event counters of a node (frames in, rejections by reason, ...), reported as diagnostics.

Bad input is never silent: every rejection increments a counter whose name says why.
"""

from __future__ import annotations

from collections import Counter
from threading import Lock


class EventCounters:
    """Thread-safe counters keyed by a short snake_case name."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = Lock()

    def inc(self, name: str, by: int = 1) -> None:
        with self._lock:
            self._counts[name] += by

    def get(self, name: str) -> int:
        with self._lock:
            return self._counts[name]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))
