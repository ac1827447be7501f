"""Capture stamp -> unit id, bounded, so stages that only see an Image can label their output."""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock


class UnitIdTable:
    """Remembers the newest `capacity` units; older stamps resolve to "" (the gate still joins
    on the stamp, so an unknown id costs a label, never a verdict)."""

    def __init__(self, capacity: int = 4096) -> None:
        self._ids: OrderedDict[int, str] = OrderedDict()
        self._capacity = capacity
        self._lock = Lock()

    def add(self, stamp_ns: int, unit_id: str) -> None:
        with self._lock:
            self._ids[stamp_ns] = unit_id
            while len(self._ids) > self._capacity:
                self._ids.popitem(last=False)

    def get(self, stamp_ns: int) -> str:
        with self._lock:
            return self._ids.get(stamp_ns, "")
