"""Threshold proposals from resolved cases: only ever up, never above a confirmed defect."""

from __future__ import annotations

import pytest

from inspection_backend.core.thresholds import (
    Outcome,
    ProposalRules,
    ResolvedScore,
    propose_threshold,
)

TP, FP = Outcome.TRUE_POSITIVE, Outcome.FALSE_POSITIVE
RULES = ProposalRules(min_cases=6, min_false_alarms=3, margin=0.01)


def cases(alarms, defects):
    return [ResolvedScore(s, FP) for s in alarms] + [ResolvedScore(s, TP) for s in defects]


def test_raises_to_just_above_the_false_alarms_below_every_defect():
    proposal = propose_threshold(2.0, cases([2.05, 2.1, 2.2], [3.0, 3.5, 4.0]), RULES)
    assert proposal.proposed == pytest.approx(2.2 * 1.01)
    assert proposal.false_alarms_removed == 3 and proposal.defects_kept == 3
    assert "not observable" in proposal.basis


def test_never_crosses_a_confirmed_defect():
    proposal = propose_threshold(2.0, cases([2.05, 2.1, 2.5, 2.6], [2.3, 3.0]), RULES)
    assert proposal.proposed < 2.3
    assert proposal.false_alarms_removed == 2


def test_margin_is_capped_below_the_lowest_defect():
    proposal = propose_threshold(2.0, cases([2.05, 2.1, 2.299], [2.3, 3.0, 3.1]), RULES)
    assert 2.299 < proposal.proposed < 2.3


@pytest.mark.parametrize(
    ("alarms", "defects"),
    [([2.1, 2.2], [3.0, 3.1, 3.2, 3.3]), ([2.1, 2.2, 2.3], [2.0, 3.0, 3.1]), ([2.1], [3.0])],
)
def test_no_proposal_without_enough_evidence_or_room(alarms, defects):
    assert propose_threshold(2.0, cases(alarms, defects), RULES) is None
