"""Compliance agent: what goes into an NCR and what the QMS is told at each state.

The record itself (states, signatures, audit rows) is kept by `db.ncr_store` under the rules of
`core.ncr`; this module maps a case to the NCR's fields and an NCR to the QMS's payload.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from inspection_backend.db.cases_store import CaseFile
from inspection_backend.db.holds_store import hold_id_for
from inspection_backend.db.ncr_store import SIGNED_FIELDS, NcrDraft

SEVERITY_CRITICAL = "critical"


def draft_for(case: CaseFile) -> NcrDraft:
    return NcrDraft(
        case_id=case.case_id,
        unit_id=case.unit_id,
        lot=case.lot,
        supplier_batch=case.supplier_batch,
        line_id=case.line_id,
        cell_id=case.cell_id,
        station=case.station,
        defect_class=case.defect_class,
        severity=SEVERITY_CRITICAL,
        image_sha256=case.image_sha256,
        heatmap_sha256=case.heatmap_sha256,
        score=case.score,
        model_version=case.model_version,
        hold_id=hold_id_for(case.case_id),
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def qms_payload(ncr: dict[str, Any]) -> dict[str, Any]:
    """The NCR as the QMS receives it: its fields and state (dates ISO text, money a number)."""
    return {k: _json_value(ncr.get(k)) for k in (*SIGNED_FIELDS, "cell_id", "state")}
