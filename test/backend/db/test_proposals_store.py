"""Threshold proposals from resolved cases, one waiting per cell, decided once."""

from __future__ import annotations

import sqlalchemy as sa
from helpers.backend_data import store, synced

from inspection_backend.core.thresholds import ProposalRules, propose_threshold
from inspection_backend.db import cases_store, proposals_store
from inspection_backend.simulator import messages as m

T0 = 1_800_000_000 * 10**9


def test_proposal_from_resolved_cases_and_its_decision(engine):
    plant = synced(engine)
    scores = [2.05, 2.08, 2.1, 2.12, 3.5, 3.8]
    store(
        engine,
        *[
            m.verdict("cell-2", f"u{i}", T0 + i * 10**12, "FAIL", s, 2.0)
            for i, s in enumerate(scores)
        ],
    )
    with engine.begin() as conn:
        cases_store.route_pending(conn, plant)
        outcomes = ["false_positive"] * 4 + ["true_positive"] * 2
        for i, outcome in enumerate(outcomes):
            conn.execute(
                sa.text("UPDATE cases SET outcome = :o WHERE unit_id = :u"),
                {"o": outcome, "u": f"u{i}"},
            )
    with engine.connect() as conn:
        current, resolved = proposals_store.resolved_scores(conn, "cell-2")
    assert current == 2.0 and len(resolved) == 6
    proposal = propose_threshold(current, resolved, ProposalRules(min_cases=6, min_false_alarms=3))
    with engine.begin() as conn:
        proposal_id = proposals_store.save_proposal(conn, "cell-2", proposal, len(resolved))
        assert proposals_store.save_proposal(conn, "cell-2", proposal, 6) is None  # one waiting
    with engine.begin() as conn:
        decided = proposals_store.decide(conn, proposal_id, "erin", True, "fewer false alarms")
        assert proposals_store.decide(conn, proposal_id, "erin", False, "again") is None
    assert decided["state"] == "approved" and decided["command_id"] == f"threshold:{proposal_id}"
    assert decided["proposed_value"] > 2.12 and decided["proposed_value"] < 3.5
