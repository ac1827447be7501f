"""Which units were already handled, with bounded memory (verdicts may arrive twice)."""

from __future__ import annotations

from collections import OrderedDict


def unit_key(stamp_ns: int, unit_id: str) -> str:
    """Capture stamp plus unit id: unique per unit even when a restarted camera reuses ids."""
    return f"{stamp_ns}:{unit_id}"


class SeenUnits:
    """Remembers the last `capacity` keys; `add` says whether a key is new."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"dedup capacity must be >= 1, got {capacity}")
        self._capacity = capacity
        self._keys: OrderedDict[str, None] = OrderedDict()

    def add(self, key: str) -> bool:
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self._capacity:
            self._keys.popitem(last=False)
        return True

    def __contains__(self, key: str) -> bool:
        return key in self._keys
