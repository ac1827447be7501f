"""Evidence of units waiting for their verdict, joined by capture stamp.

The recorder receives a unit's pieces (capture event, images, anomaly result, verdict, actuator
event, dispositions) on different topics, in any order. They wait here until the unit's verdict
arrives, then the unit is written in one transaction. The rules:

- a piece of a unit already written is *late*: it is appended to the written unit;
- at most `max_units` units wait; the oldest is written early when one more arrives;
- a unit waiting longer than the recorder's timeout is written without a verdict
  (a missing verdict is evidence too);
- written units are remembered (`written_memory` of them) so late pieces find their unit.

    pending = PendingUnits(max_units=2000)
    placed = pending.add(stamp, "u000001", piece, now)   # Placed: kept, late, overflow
    unit = pending.take(stamp)                            # the verdict came: write it
    unit_id = pending.mark_written(stamp, unit)
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Piece = TypeVar("Piece")
WRITTEN_MEMORY = 20000  # stamps of written units remembered to append late pieces


@dataclass
class PendingUnit(Generic[Piece]):
    """One unit's pieces so far; `since` is when its first piece arrived (monotonic s)."""

    unit_id: str
    since: float
    items: list[Piece] = field(default_factory=list)


@dataclass(frozen=True)
class Placed(Generic[Piece]):
    """Where a piece went: kept pending, or `late_unit_id` (its unit is written: append it
    there); `overflow` are units pushed out by the bound, to be written now."""

    late_unit_id: str | None = None
    overflow: tuple[tuple[int, PendingUnit[Piece]], ...] = ()


class PendingUnits(Generic[Piece]):
    """The join of the module docstring. Pure logic: the caller encodes and writes."""

    def __init__(self, max_units: int, written_memory: int = WRITTEN_MEMORY) -> None:
        if max_units < 1:
            raise ValueError(f"max_units must be >= 1, got {max_units}")
        self.max_units = max_units
        self._written_memory = written_memory
        self._pending: OrderedDict[int, PendingUnit[Piece]] = OrderedDict()
        self._written: OrderedDict[int, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pending)

    def get(self, stamp: int) -> PendingUnit[Piece] | None:
        """The unit waiting under `stamp`, left in place (None if it is not waiting)."""
        return self._pending.get(stamp)

    def open(self, stamp: int, unit_id: str, now: float) -> Placed[Piece]:
        """Make sure a unit waits (a capture event); learns its unit id if it had none."""
        if stamp in self._written:
            return Placed(late_unit_id=self._written[stamp])
        unit = self._pending.get(stamp)
        if unit is not None:
            if unit_id and not unit.unit_id:
                unit.unit_id = unit_id
            return Placed()
        self._pending[stamp] = PendingUnit(unit_id, now)
        if len(self._pending) > self.max_units:
            return Placed(overflow=(self._pending.popitem(last=False),))
        return Placed()

    def add(self, stamp: int, unit_id: str, piece: Piece, now: float) -> Placed[Piece]:
        """Add a piece to its unit (opened if new)."""
        placed = self.open(stamp, unit_id, now)
        if placed.late_unit_id is None:
            self._pending[stamp].items.append(piece)
        return placed

    def take(self, stamp: int) -> PendingUnit[Piece] | None:
        """Remove and return the unit (its verdict arrived); None if it is not waiting."""
        return self._pending.pop(stamp, None)

    def expired(self, cutoff: float) -> list[tuple[int, PendingUnit[Piece]]]:
        """Remove and return the units waiting since before `cutoff`, oldest first."""
        out = []
        while self._pending and next(iter(self._pending.values())).since < cutoff:
            out.append(self._pending.popitem(last=False))
        return out

    def mark_written(self, stamp: int, unit: PendingUnit[Piece]) -> str:
        """Remember that the unit is written; returns the id it is written under (its unit id,
        or `stamp-<ns>` when no piece named it)."""
        unit_id = unit.unit_id or f"stamp-{stamp}"
        self._written[stamp] = unit_id
        if len(self._written) > self._written_memory:
            self._written.popitem(last=False)
        return unit_id
