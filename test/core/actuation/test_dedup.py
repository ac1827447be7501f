"""Handled units remembered with bounded memory; a restarted camera's reused id is a new unit."""

import pytest

from inspection_nodes.core.actuation.dedup import SeenUnits, unit_key


def test_a_key_is_new_once_and_old_keys_are_forgotten():
    seen = SeenUnits(capacity=2)
    assert seen.add(unit_key(1, "u1")) and not seen.add(unit_key(1, "u1"))
    assert seen.add(unit_key(2, "u1"))  # same id, other capture stamp: another unit
    seen.add(unit_key(3, "u3"))
    assert unit_key(1, "u1") not in seen and unit_key(3, "u3") in seen
    with pytest.raises(ValueError, match=">= 1"):
        SeenUnits(0)
