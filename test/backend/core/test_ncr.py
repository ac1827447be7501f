"""NCR rules: the only order of states, what each transition needs, signatures in order."""

from __future__ import annotations

from datetime import date

import pytest

from inspection_backend.core.ncr import (
    ApprovalMeaning,
    DispositionDecision,
    NcrDisposition,
    NcrError,
    NcrState,
    check_approval,
    check_transition,
    content_digest,
    ncr_number,
    next_state,
)

FILLED = {
    "root_cause": "batch B7",
    "disposition": "scrap",
    "capa_owner": "ann",
    "capa_due": date(2027, 1, 1),
}


def test_states_go_forward_one_step_at_a_time():
    assert [next_state(s) for s in (NcrState.DRAFT, NcrState.ANALYSIS, NcrState.OPEN)] == [
        NcrState.ANALYSIS,
        NcrState.OPEN,
        NcrState.DONE,
    ]
    with pytest.raises(NcrError, match="closed"):
        next_state(NcrState.DONE)
    with pytest.raises(NcrError, match="cannot go from draft to open"):
        check_transition(NcrState.DRAFT, NcrState.OPEN, FILLED)
    with pytest.raises(NcrError):
        check_transition(NcrState.OPEN, NcrState.ANALYSIS, FILLED)


def test_transitions_need_their_fields():
    with pytest.raises(NcrError, match="root cause"):
        check_transition(NcrState.DRAFT, NcrState.ANALYSIS, {})
    with pytest.raises(NcrError, match="disposition, capa_owner, capa_due"):
        check_transition(NcrState.ANALYSIS, NcrState.OPEN, {"root_cause": "x"})
    check_transition(NcrState.ANALYSIS, NcrState.OPEN, FILLED)


def test_signatures_come_in_order():
    assert check_approval(NcrState.ANALYSIS, ApprovalMeaning.DISPOSITION) is NcrState.OPEN
    assert check_approval(NcrState.OPEN, ApprovalMeaning.CLOSURE) is NcrState.DONE
    with pytest.raises(NcrError, match="not expected while the NCR is draft"):
        check_approval(NcrState.DRAFT, ApprovalMeaning.DISPOSITION)
    with pytest.raises(NcrError):
        check_approval(NcrState.ANALYSIS, ApprovalMeaning.CLOSURE)


def test_disposition_needs_an_owner():
    with pytest.raises(NcrError, match="CAPA owner"):
        DispositionDecision(NcrDisposition.REWORK, " ", date(2027, 1, 1))


def test_digest_changes_with_content_not_order():
    assert content_digest({"a": 1, "b": 2}) == content_digest({"b": 2, "a": 1})
    assert content_digest({"a": 1}) != content_digest({"a": 2})


def test_number_format():
    assert ncr_number(2026, 42) == "NCR-2026-000042"
