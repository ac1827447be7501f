"""Shift calendar: slots across midnight and time zones, review deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from inspection_backend.core.shifts import ShiftCalendar

SHIFTS = [
    {"name": "A", "start": "06:00"},
    {"name": "B", "start": "14:00"},
    {"name": "C", "start": "22:00"},
]


def at(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "name", "start", "end"),
    [
        (at(6), "A", at(6), at(14)),
        (at(13, 59), "A", at(6), at(14)),
        (at(23), "C", at(22), at(6, day=3)),
        (at(2), "C", at(22, day=1), at(6)),
    ],
)
def test_slot(moment, name, start, end):
    slot = ShiftCalendar.from_config(SHIFTS).slot_at(moment)
    assert (slot.name, slot.start, slot.end) == (name, start, end)


def test_deadline_is_end_of_shift_or_next_when_too_close():
    calendar = ShiftCalendar.from_config(SHIFTS, min_review_s=1800)
    assert calendar.review_deadline(at(10)) == at(14)
    assert calendar.review_deadline(at(13, 45)) == at(22)  # 15 min left: next shift's end


def test_time_zone_is_the_plants():
    calendar = ShiftCalendar.from_config(SHIFTS, timezone="Europe/Berlin")
    slot = calendar.slot_at(at(5, 30))  # 06:30 in Berlin (UTC+1 in December)
    assert slot.name == "A" and slot.start == at(5)


def test_one_shift_a_day():
    calendar = ShiftCalendar((("day", time(0, 0)),))
    assert calendar.slot_at(at(12)).end == at(0, day=3)


@pytest.mark.parametrize(
    "shifts",
    [[], [{"name": "A", "start": "14:00"}, {"name": "B", "start": "06:00"}], [{"name": "A"}]],
)
def test_bad_calendars(shifts):
    with pytest.raises(ValueError):
        ShiftCalendar.from_config(shifts)
