"""Capture stamp -> unit id, bounded: old stamps resolve to "" instead of growing memory."""

from inspection_nodes.core.io.unit_ids import UnitIdTable


def test_newest_units_are_remembered_and_older_ones_forgotten():
    table = UnitIdTable(capacity=3)
    for stamp in range(5):
        table.add(stamp, f"u{stamp}")
    assert [table.get(s) for s in range(5)] == ["", "", "u2", "u3", "u4"]
    assert table.get(999) == ""
