"""NCR records: one per case, states only in order, signatures bound to content, and every
change with its audit row in the same transaction (a rollback takes both)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from inspection_backend.core.ncr import (
    ApprovalMeaning,
    DispositionDecision,
    NcrDisposition,
    NcrError,
    NcrState,
)
from inspection_backend.db import audit, ncr_store
from inspection_backend.db.ncr_store import NcrDraft

DRAFT = NcrDraft(
    case_id="unit:cell-1:u1", unit_id="u1", lot="L1", supplier_batch="B7", line_id="line-1",
    cell_id="cell-1", station="bottle", defect_class="crack", severity="critical",
    image_sha256="a" * 64, heatmap_sha256=None, score=7.5, model_version="m1",
    hold_id="hold:unit:cell-1:u1",
)  # fmt: skip
DECISION = DispositionDecision(NcrDisposition.SCRAP, "erin", date(2027, 3, 1), "quarantined")


def actions(engine, number):
    with engine.connect() as conn:
        return [(e.actor, e.action) for e in audit.history(conn, "ncr", number)]


def test_one_ncr_per_case(engine):
    with engine.begin() as conn:
        first = ncr_store.create_ncr(conn, DRAFT)
        second = ncr_store.create_ncr(conn, DRAFT)
    assert first["number"] == second["number"] and first["number"].startswith("NCR-")
    assert first["state"] == "draft" and first["supplier_batch"] == "B7"
    assert actions(engine, first["number"]) == [("system", "ncr.created")]


def test_lifecycle_with_signatures(engine):
    with engine.begin() as conn:
        number = ncr_store.create_ncr(conn, DRAFT)["number"]
    with pytest.raises(NcrError, match="not expected while the NCR is draft"), engine.begin() as c:
        ncr_store.sign(c, number, ApprovalMeaning.DISPOSITION, "erin", "engineer", DECISION)
    with engine.begin() as conn:
        ncr_store.attach_root_cause(conn, number, "supplier batch B7")
        ncr_store.attach_root_cause(conn, number, "ignored: already in analysis")
    with engine.begin() as conn:
        assert (
            ncr_store.sign(conn, number, ApprovalMeaning.DISPOSITION, "erin", "engineer", DECISION)
            is NcrState.OPEN
        )
        assert (
            ncr_store.sign(conn, number, ApprovalMeaning.CLOSURE, "ann", "admin") is NcrState.DONE
        )
    with engine.connect() as conn:
        ncr = ncr_store.get_ncr(conn, number)
        signatures = ncr_store.approvals(conn, ncr["ncr_id"])
    assert (ncr["state"], ncr["disposition"], ncr["root_cause"]) == (
        "done",
        "scrap",
        "supplier batch B7",
    )
    assert [(s.meaning, s.username) for s in signatures] == [
        ("disposition", "erin"),
        ("closure", "ann"),
    ]
    assert actions(engine, number) == [
        ("system", "ncr.created"),
        ("root-cause-agent", "ncr.analysis"),
        ("erin", "ncr.signed.disposition"),
        ("ann", "ncr.signed.closure"),
    ]


def test_a_rolled_back_change_leaves_no_audit_row(engine):
    with engine.begin() as conn:
        number = ncr_store.create_ncr(conn, DRAFT)["number"]
    with pytest.raises(RuntimeError), engine.begin() as conn:
        ncr_store.attach_root_cause(conn, number, "x")
        raise RuntimeError("crash before commit")
    with engine.connect() as conn:
        assert ncr_store.get_ncr(conn, number)["state"] == "draft"
    assert actions(engine, number) == [("system", "ncr.created")]


def test_signature_hash_covers_the_content(engine):
    with engine.begin() as conn:
        number = ncr_store.create_ncr(conn, DRAFT)["number"]
        ncr_store.attach_root_cause(conn, number, "r")
        ncr_store.sign(conn, number, ApprovalMeaning.DISPOSITION, "erin", "engineer", DECISION)
        ncr = ncr_store.get_ncr(conn, number)
        stored = ncr_store.approvals(conn, ncr["ncr_id"])[0].content_sha256
    from inspection_backend.core.ncr import content_digest

    expected = content_digest(
        {k: (v.isoformat() if isinstance(v, date) else v) for k, v in ncr.items()
         if k in ncr_store.SIGNED_FIELDS}
    )  # fmt: skip
    assert stored == expected
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE ncrs SET root_cause = 'edited later'"))
        edited = ncr_store.get_ncr(conn, number)
    assert content_digest(
        {k: (v.isoformat() if isinstance(v, date) else v) for k, v in edited.items()
         if k in ncr_store.SIGNED_FIELDS}
    ) != stored  # fmt: skip
