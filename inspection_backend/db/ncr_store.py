"""NCR records: created once per case, moved through their states only by the rules of
`core.ncr`, every change with its audit row on the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from inspection_backend.core.ncr import (
    ApprovalMeaning,
    DispositionDecision,
    NcrError,
    NcrState,
    check_approval,
    check_transition,
    content_digest,
    ncr_number,
)
from inspection_backend.db import audit
from inspection_backend.db.audit import AuditEntry
from inspection_backend.db.tables import ncr_approvals, ncrs

# The fields a signature covers (what the NCR says), not bookkeeping like updated_at.
SIGNED_FIELDS = (
    "number",
    "case_id",
    "unit_id",
    "lot",
    "supplier_batch",
    "line_id",
    "station",
    "defect_class",
    "severity",
    "image_sha256",
    "heatmap_sha256",
    "score",
    "model_version",
    "hold_id",
    "root_cause",
    "disposition",
    "capa_owner",
    "capa_due",
    "scrap_cost",
)


@dataclass(frozen=True)
class NcrDraft:
    case_id: str
    unit_id: str
    lot: str | None
    supplier_batch: str | None
    line_id: str
    cell_id: str
    station: str
    defect_class: str
    severity: str
    image_sha256: str | None
    heatmap_sha256: str | None
    score: float | None
    model_version: str
    hold_id: str | None


def create_ncr(conn: sa.Connection, draft: NcrDraft) -> dict[str, Any]:
    """Create the case's NCR in draft (or return the one it has)."""
    existing = ncr_for_case(conn, draft.case_id)
    if existing is not None:
        return existing
    sequence = conn.execute(sa.text("SELECT nextval('ncr_number_seq')")).scalar_one()
    number = ncr_number(datetime.now(UTC).year, sequence)
    row = conn.execute(
        insert(ncrs)
        .values(number=number, state=str(NcrState.DRAFT), **draft.__dict__)
        .on_conflict_do_nothing(index_elements=[ncrs.c.case_id])
        .returning(ncrs)
    ).first()
    if row is None:  # another transaction created it first
        return ncr_for_case(conn, draft.case_id) or {}
    audit.record(
        conn,
        AuditEntry("system", "ncr.created", "ncr", number, f"critical {draft.defect_class}"),
    )
    return dict(row._mapping)


def ncr_for_case(conn: sa.Connection, case_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(ncrs).where(ncrs.c.case_id == case_id)).first()
    return dict(row._mapping) if row is not None else None


def get_ncr(conn: sa.Connection, number: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(ncrs).where(ncrs.c.number == number)).first()
    return dict(row._mapping) if row is not None else None


def list_ncrs(conn: sa.Connection, limit: int = 200) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(ncrs).order_by(ncrs.c.ncr_id.desc()).limit(limit))
    return [dict(r._mapping) for r in rows]


def _update(conn: sa.Connection, number: str, entry: AuditEntry, **values: Any) -> None:
    conn.execute(
        ncrs.update().where(ncrs.c.number == number).values(updated_at=sa.func.now(), **values)
    )
    audit.record(conn, entry)


def attach_root_cause(conn: sa.Connection, number: str, root_cause: str) -> None:
    """draft -> analysis with the root-cause agent's statement (no-op when already past)."""
    current = get_ncr(conn, number)
    if current is None:
        raise KeyError(number)
    if NcrState(current["state"]) is not NcrState.DRAFT:
        return
    check_transition(NcrState.DRAFT, NcrState.ANALYSIS, {"root_cause": root_cause})
    _update(
        conn,
        number,
        AuditEntry("root-cause-agent", "ncr.analysis", "ncr", number, root_cause[:500]),
        root_cause=root_cause,
        state=str(NcrState.ANALYSIS),
    )


def set_external(conn: sa.Connection, number: str, **values: Any) -> None:
    """QMS reference or ERP scrap cost, once known."""
    _update(
        conn,
        number,
        AuditEntry(
            "system", "ncr.external", "ncr", number, "", {k: str(v) for k, v in values.items()}
        ),
        **values,
    )


def sign(
    conn: sa.Connection,
    number: str,
    meaning: ApprovalMeaning,
    username: str,
    role: str,
    decision: DispositionDecision | None = None,
) -> NcrState:
    """A signed approval: checks the order, fills the disposition, stores the content hash,
    moves the state; raises NcrError with the reason when it does not apply."""
    row = conn.execute(sa.select(ncrs).where(ncrs.c.number == number).with_for_update()).first()
    if row is None:
        raise NcrError(f"no NCR {number}")
    fields = dict(row._mapping)
    target = check_approval(NcrState(fields["state"]), meaning)
    changes: dict[str, Any] = {}
    if meaning is ApprovalMeaning.DISPOSITION:
        if decision is None:
            raise NcrError("a disposition signature needs the disposition, CAPA owner and due date")
        changes = {
            "disposition": str(decision.disposition),
            "capa_owner": decision.capa_owner,
            "capa_due": decision.capa_due,
        }
        fields.update(changes)
    check_transition(NcrState(fields["state"]), target, fields)
    digest = content_digest({k: _plain(fields[k]) for k in SIGNED_FIELDS})
    conn.execute(
        ncr_approvals.insert().values(
            ncr_id=fields["ncr_id"],
            meaning=str(meaning),
            username=username,
            role=role,
            content_sha256=digest,
        )
    )
    _update(
        conn,
        number,
        AuditEntry(
            username,
            f"ncr.signed.{meaning}",
            "ncr",
            number,
            decision.note if decision else "",
            {
                "state": str(target),
                "content_sha256": digest,
                **{k: str(v) for k, v in changes.items()},
            },
        ),
        state=str(target),
        **changes,
    )
    return target


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def approvals(conn: sa.Connection, ncr_id: int) -> list[sa.Row]:
    return list(
        conn.execute(
            sa.select(ncr_approvals)
            .where(ncr_approvals.c.ncr_id == ncr_id)
            .order_by(ncr_approvals.c.signed_at)
        )
    )
