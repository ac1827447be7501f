"""Threshold proposals: made from a cell's resolved cases, approved or rejected by an engineer."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from inspection_backend.core.thresholds import Outcome, ResolvedScore, ThresholdProposal
from inspection_backend.db import audit
from inspection_backend.db.audit import AuditEntry
from inspection_backend.db.tables import cases, threshold_proposals, verdicts

PROPOSED, APPROVED, REJECTED = "proposed", "approved", "rejected"


def resolved_scores(conn: sa.Connection, cell_id: str) -> tuple[float | None, list[ResolvedScore]]:
    """(the threshold in force per the latest verdict, the cell's resolved case scores)."""
    current = conn.execute(
        sa.select(verdicts.c.image_threshold)
        .where(verdicts.c.cell_id == cell_id, verdicts.c.image_threshold.is_not(None))
        .order_by(verdicts.c.stamp.desc())
        .limit(1)
    ).scalar_one_or_none()
    rows = conn.execute(
        sa.select(verdicts.c.score, cases.c.outcome)
        .join(verdicts, verdicts.c.message_id == cases.c.verdict_id)
        .where(
            cases.c.cell_id == cell_id,
            cases.c.outcome.is_not(None),
            verdicts.c.score.is_not(None),
        )
    )
    return current, [ResolvedScore(r.score, Outcome(r.outcome)) for r in rows]


def save_proposal(
    conn: sa.Connection, cell_id: str, proposal: ThresholdProposal, cases_used: int
) -> int | None:
    """Store a proposal unless the cell already has one waiting for a decision."""
    waiting = conn.execute(
        sa.select(threshold_proposals.c.proposal_id).where(
            threshold_proposals.c.cell_id == cell_id, threshold_proposals.c.state == PROPOSED
        )
    ).first()
    if waiting is not None:
        return None
    proposal_id = conn.execute(
        threshold_proposals.insert()
        .values(
            cell_id=cell_id,
            name="score_threshold",
            current_value=proposal.current,
            proposed_value=proposal.proposed,
            basis=proposal.basis,
            cases_used=cases_used,
            state=PROPOSED,
        )
        .returning(threshold_proposals.c.proposal_id)
    ).scalar_one()
    audit.record(
        conn,
        AuditEntry(
            "system",
            "threshold.proposed",
            "threshold_proposal",
            str(proposal_id),
            proposal.basis,
            {"cell": cell_id, "current": proposal.current, "proposed": proposal.proposed},
        ),
    )
    return proposal_id


def decide(
    conn: sa.Connection, proposal_id: int, username: str, approve: bool, reason: str
) -> dict[str, Any] | None:
    """Approve or reject a waiting proposal; returns it, or None when it was not waiting."""
    row = conn.execute(
        threshold_proposals.update()
        .where(
            threshold_proposals.c.proposal_id == proposal_id,
            threshold_proposals.c.state == PROPOSED,
        )
        .values(
            state=APPROVED if approve else REJECTED,
            decided_by=username,
            decided_at=sa.func.now(),
            command_id=f"threshold:{proposal_id}" if approve else None,
        )
        .returning(threshold_proposals)
    ).first()
    if row is None:
        return None
    audit.record(
        conn,
        AuditEntry(
            username,
            "threshold.approved" if approve else "threshold.rejected",
            "threshold_proposal",
            str(proposal_id),
            reason,
        ),
    )
    return dict(row._mapping)


def list_proposals(conn: sa.Connection, limit: int = 100) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(threshold_proposals)
        .order_by(threshold_proposals.c.proposal_id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]
