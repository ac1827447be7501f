"""NCR of a critical case (workflow id `ncr:<case id>`): draft with evidence, QMS record,
scrap cost, root cause (analysis), then two signed approvals by people on the page: the
disposition (-> open, with the MES rework order or the supplier notice it calls for) and the
closure (-> done). The waits can last days and survive restarts."""

from __future__ import annotations

from functools import partial

import sqlalchemy as sa
from dbos import DBOS

from inspection_backend.agents.compliance import draft_for, qms_payload
from inspection_backend.core.ncr import ApprovalMeaning, NcrDisposition, NcrState
from inspection_backend.core.review import CaseState
from inspection_backend.core.thresholds import Outcome
from inspection_backend.db import cases_store, ncr_store
from inspection_backend.db.audit import AuditEntry
from inspection_backend.db.cases_store import CaseFile
from inspection_backend.workflows.runtime import runtime, tx
from inspection_backend.workflows.steps import best_effort, notify
from inspection_backend.workflows.waiting import wait_for

APPROVAL_TOPIC = "approval"
ROOT_CAUSE_WAIT_S = 600.0
_ORDER = list(NcrState)


def _create(conn: sa.Connection, case: CaseFile) -> dict:
    return ncr_store.create_ncr(conn, draft_for(case))


def _set(conn: sa.Connection, number: str, values: dict[str, object]) -> None:
    ncr_store.set_external(conn, number, **values)


def _attach(conn: sa.Connection, number: str, root_cause: str) -> None:
    ncr_store.attach_root_cause(conn, number, root_cause)


def _confirm_case(conn: sa.Connection, case: CaseFile, ncr: dict) -> None:
    """The disposition signature confirms the defect: the case is resolved (and labelled) by
    its signer; the line hold stays until its own release."""
    signer = next(
        a.username
        for a in ncr_store.approvals(conn, ncr["ncr_id"])
        if a.meaning == str(ApprovalMeaning.DISPOSITION)
    )
    entry = AuditEntry(signer, "case.confirmed", "case", case.case_id, f"{ncr['number']} signed")
    cases_store.set_state(
        conn,
        case.case_id,
        CaseState.RESOLVED,
        entry,
        outcome=str(Outcome.TRUE_POSITIVE),
        confirmed_class=case.defect_class,
        resolved_by=signer,
        resolved_at=sa.func.now(),
    )


def _reached(number: str, state: NcrState) -> dict | None:
    """The NCR once it is in `state` or later, else None."""
    with runtime().engine.connect() as conn:
        ncr = ncr_store.get_ncr(conn, number)
    if ncr is None or _ORDER.index(NcrState(ncr["state"])) < _ORDER.index(state):
        return None
    return ncr


@DBOS.workflow(name="ncr")
def ncr_workflow(case: CaseFile) -> str:
    systems = runtime().systems
    ncr = tx("ncr_create", _create, case)
    number = ncr["number"]
    ref = best_effort("qms_create", "ncr", number, systems.qms.create_ncr, qms_payload(ncr))
    if ref:
        tx("ncr_qms_ref", _set, number, {"qms_ref": ref})
    cost = best_effort(
        "erp_scrap_cost",
        "ncr",
        number,
        systems.erp.scrap_cost,
        f"cost:{number}",
        case.sku,
        case.defect_class,
    )
    if cost is not None:
        tx("ncr_scrap_cost", _set, number, {"scrap_cost": cost})
    root = DBOS.get_event(f"rca:{case.case_id}", "root_cause", timeout_seconds=ROOT_CAUSE_WAIT_S)
    root = root or f"root-cause analysis did not finish within {ROOT_CAUSE_WAIT_S:g} s"
    tx("ncr_analysis", _attach, number, root)
    best_effort(
        "qms_analysis",
        "ncr",
        number,
        systems.qms.update_ncr,
        number,
        "analysis",
        {"root_cause": root},
    )
    opened = wait_for(APPROVAL_TOPIC, "ncr_check", partial(_reached, number, NcrState.OPEN))
    tx("case_confirmed", _confirm_case, case, opened)
    _act_on_disposition(number, case, opened)
    best_effort(
        "qms_open", "ncr", number, systems.qms.update_ncr, number, "open", qms_payload(opened)
    )
    wait_for(APPROVAL_TOPIC, "ncr_check", partial(_reached, number, NcrState.DONE))
    best_effort("qms_done", "ncr", number, systems.qms.update_ncr, number, "done", {})
    return number


def _act_on_disposition(number: str, case: CaseFile, ncr: dict) -> None:
    disposition = NcrDisposition(ncr["disposition"])
    if disposition is NcrDisposition.REWORK:
        best_effort(
            "mes_rework",
            "ncr",
            number,
            runtime().systems.mes.rework_order,
            number,
            case.unit_id,
            f"rework per {number}",
        )
    elif disposition is NcrDisposition.RETURN_TO_SUPPLIER:
        notify(
            f"supplier:{number}",
            "supplier_return",
            f"{number}: return batch {case.supplier_batch or '?'} to the supplier",
            "ncr",
            number,
        )
