"""Shift calendar: which shift a moment belongs to, and when a review is due.

A plant works in shifts that start at fixed local times (e.g. 06:00, 14:00, 22:00). A unit sent
to review must be decided within the shift that produced it; a unit that arrives too close to
the shift's end (less than `min_review_s` left) is due at the end of the next shift instead,
so the person taking over has a whole shift for it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class ShiftSlot:
    name: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ShiftCalendar:
    """Named shift start times (local clock) in a time zone; together they cover the day."""

    starts: tuple[tuple[str, time], ...]
    timezone: str = "UTC"
    min_review_s: float = 1800.0

    def __post_init__(self) -> None:
        if not self.starts:
            raise ValueError("shift calendar needs at least one shift")
        times = [start for _, start in self.starts]
        if times != sorted(times) or len(set(times)) != len(times):
            raise ValueError("shift start times must be distinct and in order through the day")
        ZoneInfo(self.timezone)  # raises on an unknown zone

    @classmethod
    def from_config(
        cls, shifts: list[dict[str, str]], timezone: str = "UTC", min_review_s: float = 1800.0
    ) -> ShiftCalendar:
        """From `[{name: A, start: "06:00"}, ...]` as written in the plant YAML."""
        try:
            starts = tuple((s["name"], time.fromisoformat(s["start"])) for s in shifts)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"shifts: each needs a name and a start 'HH:MM' ({exc})") from exc
        return cls(starts, timezone, min_review_s)

    def slot_at(self, moment: datetime) -> ShiftSlot:
        """The shift that contains `moment` (an aware datetime)."""
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        candidates = []
        for day_offset in (-1, 0, 1):
            day = local.date() + timedelta(days=day_offset)
            for name, start in self.starts:
                candidates.append((datetime.combine(day, start, zone), name))
        candidates.sort()
        for (begin, name), (end, _) in itertools.pairwise(candidates):
            if begin <= local < end:
                return ShiftSlot(name, begin.astimezone(UTC), end.astimezone(UTC))
        raise AssertionError("shift calendar does not cover the moment")  # pragma: no cover

    def review_deadline(self, created: datetime) -> datetime:
        """End of the current shift, or of the next one when too little of it is left."""
        slot = self.slot_at(created)
        if (slot.end - created).total_seconds() >= self.min_review_s:
            return slot.end
        return self.slot_at(slot.end).end
