"""Operator dispositions (reviews of a unit): what they may say, and when one is refused.

A disposition is evidence and an audit entry, so it must name the unit (id and capture stamp),
the operator and a known kind; anything else is refused with every problem named.
"""

from __future__ import annotations

from enum import IntEnum


class DispositionKind(IntEnum):
    """The codes of Disposition's constants."""

    CONFIRMED = 0  # the verdict was right
    FALSE_REJECT = 1  # gate said FAIL, the part is good
    ESCAPE = 2  # gate said PASS, the part is bad


def disposition_problems(unit_id: str, operator_id: str, kind: int, stamp_ns: int) -> list[str]:
    """Every reason to refuse a disposition; empty when it can be recorded."""
    known = kind in tuple(DispositionKind)
    checks = (
        (not unit_id, "unit_id is empty"),
        (not operator_id, "operator_id is empty"),
        (not known, f"disposition {kind} unknown"),
        (stamp_ns == 0, "header.stamp (capture stamp) is zero"),
    )
    return [text for bad, text in checks if bad]
