"""What goes into an NCR and what the QMS receives (JSON-ready)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from inspection_backend.agents.compliance import draft_for, qms_payload
from inspection_backend.db.cases_store import CaseFile


def test_draft_and_payload():
    case = CaseFile(
        "unit:cell-1:u", "cell-1", "u", "line-1", "bottle", "crack", "score 3x",
        datetime(2026, 12, 2, tzinfo=UTC), None, 6.0, "m1", "a" * 64, "b" * 64, "SKU", "L1", "B7",
    )  # fmt: skip
    draft = draft_for(case)
    assert (draft.severity, draft.hold_id, draft.supplier_batch) == (
        "critical",
        "hold:unit:cell-1:u",
        "B7",
    )
    payload = qms_payload(
        {**draft.__dict__, "number": "NCR-1", "state": "open", "capa_due": date(2027, 1, 2),
         "scrap_cost": Decimal("12.50")}
    )  # fmt: skip
    assert json.loads(json.dumps(payload))["capa_due"] == "2027-01-02"
    assert payload["scrap_cost"] == 12.5 and payload["number"] == "NCR-1"
