"""Threshold proposals from resolved cases: raise a station's score threshold where people
keep overriding false alarms, but never above a confirmed defect.

Only FAILs become cases, so the data is one-sided: a proposal can be checked for the false alarms
it removes and the confirmed defects it would let through, but not for escapes below the current
threshold (those are never seen here). So a proposal only ever raises the threshold, to just
above the highest false-alarm score that lies below every confirmed defect, and only when enough
cases were resolved. An engineer approves it on the page; the cell applies it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    TRUE_POSITIVE = "true_positive"  # the part was bad: the FAIL was right
    FALSE_POSITIVE = "false_positive"  # the part was good: a false alarm


@dataclass(frozen=True)
class ResolvedScore:
    score: float
    outcome: Outcome


@dataclass(frozen=True)
class ProposalRules:
    min_cases: int = 20
    min_false_alarms: int = 3
    margin: float = 0.01  # new threshold = highest removable false-alarm score * (1 + margin)


@dataclass(frozen=True)
class ThresholdProposal:
    current: float
    proposed: float
    false_alarms_removed: int
    false_alarms_total: int
    defects_kept: int
    defects_total: int
    basis: str


def propose_threshold(
    current: float, cases: Sequence[ResolvedScore], rules: ProposalRules = ProposalRules()
) -> ThresholdProposal | None:
    """A higher threshold that removes false alarms and keeps every confirmed defect, or None."""
    if len(cases) < rules.min_cases:
        return None
    defects = sorted(c.score for c in cases if c.outcome is Outcome.TRUE_POSITIVE)
    alarms = sorted(c.score for c in cases if c.outcome is Outcome.FALSE_POSITIVE)
    if len(alarms) < rules.min_false_alarms:
        return None
    ceiling = defects[0] if defects else float("inf")
    removable = [s for s in alarms if s < ceiling]
    if not removable:
        return None
    proposed = removable[-1] * (1.0 + rules.margin)
    if proposed >= ceiling:
        proposed = (removable[-1] + ceiling) / 2.0
    if proposed <= current:
        return None
    removed = sum(1 for s in alarms if s < proposed)
    return ThresholdProposal(
        current=current,
        proposed=proposed,
        false_alarms_removed=removed,
        false_alarms_total=len(alarms),
        defects_kept=len(defects),
        defects_total=len(defects),
        basis=(
            f"{len(cases)} resolved cases: {removed} of {len(alarms)} false alarms scored below "
            f"{proposed:.4g}; all {len(defects)} confirmed defects score at or above "
            f"{ceiling:.4g}. Escapes below the current threshold are not observable here."
        ),
    )
