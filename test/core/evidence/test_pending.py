"""The recorder's join of a unit's pieces until its verdict, as pure logic."""

import pytest

from inspection_nodes.core.evidence.pending import PendingUnits


def test_pieces_wait_until_the_unit_is_taken_and_late_ones_find_it():
    pending = PendingUnits(max_units=10)
    assert pending.open(1, "u1", now=0.0).late_unit_id is None
    pending.add(1, "", "roi", now=0.1)
    pending.add(1, "u1", "verdict", now=0.2)
    unit = pending.take(1)
    assert unit.items == ["roi", "verdict"] and unit.since == 0.0 and len(pending) == 0
    assert pending.mark_written(1, unit) == "u1"
    late = pending.add(1, "u1", "actuator_event", now=0.3)
    assert late.late_unit_id == "u1" and pending.get(1) is None


def test_a_unit_id_learned_later_is_kept_and_a_nameless_unit_gets_its_stamp():
    pending = PendingUnits(max_units=10)
    pending.add(5, "", "heatmap", now=0.0)
    pending.open(5, "u5", now=0.0)
    assert pending.get(5).unit_id == "u5"
    pending.add(6, "", "heatmap", now=0.0)
    assert pending.mark_written(6, pending.take(6)) == "stamp-6"


def test_overflow_pushes_out_the_oldest_unit_to_be_written_now():
    pending = PendingUnits(max_units=2)
    pending.add(1, "u1", "a", now=0.0)
    pending.add(2, "u2", "b", now=0.0)
    placed = pending.add(3, "u3", "c", now=0.0)
    [(stamp, unit)] = placed.overflow
    assert (stamp, unit.unit_id, unit.items) == (1, "u1", ["a"]) and len(pending) == 2


def test_expired_units_leave_oldest_first():
    pending = PendingUnits(max_units=10)
    for stamp, since in ((1, 0.0), (2, 5.0), (3, 9.0)):
        pending.open(stamp, f"u{stamp}", now=since)
    assert [s for s, _ in pending.expired(cutoff=6.0)] == [1, 2]
    assert pending.get(3) is not None and pending.expired(cutoff=6.0) == []


def test_written_memory_is_bounded():
    pending = PendingUnits(max_units=10, written_memory=2)
    for stamp in (1, 2, 3):
        pending.open(stamp, "", now=0.0)
        pending.mark_written(stamp, pending.take(stamp))
    assert pending.add(1, "", "late", now=0.0).late_unit_id is None  # forgotten: new unit
    assert pending.add(3, "", "late", now=0.0).late_unit_id == "stamp-3"
    with pytest.raises(ValueError, match=">= 1"):
        PendingUnits(max_units=0)
