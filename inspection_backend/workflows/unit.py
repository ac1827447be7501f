"""The workflow of one failed unit (id `unit:<cell>:<unit>`), chosen by its case's route.

- critical: line hold, root-cause analysis and NCR start at once as three child workflows
  (`hold:`, `rca:`, `ncr:` + the case id) and run concurrently;
- recurring: a maintenance alert (recorded once, notifier called with an idempotency key);
- review: waits for a person until the shift deadline, escalates, waits on;
- log: nothing more to do (the case row is the record).
"""

from __future__ import annotations

from functools import partial

import sqlalchemy as sa
from dbos import DBOS, SetWorkflowID

from inspection_backend.core.plant import PlantConfig
from inspection_backend.core.review import CaseState
from inspection_backend.core.routing import Route
from inspection_backend.core.thresholds import ProposalRules, propose_threshold
from inspection_backend.db import cases_store, proposals_store
from inspection_backend.db.audit import AuditEntry
from inspection_backend.db.cases_store import CaseFile, CaseStart
from inspection_backend.workflows import holds, ncr, rca
from inspection_backend.workflows.runtime import runtime, tx
from inspection_backend.workflows.steps import notify
from inspection_backend.workflows.waiting import wait_for

REVIEW_TOPIC = "review"


def _load(conn: sa.Connection, plant: PlantConfig, case_id: str) -> CaseFile:
    return cases_store.case_file(conn, plant, case_id)


@DBOS.workflow(name="unit_case")
def unit_case(start: CaseStart) -> str:
    if start.route is Route.LOG:
        return "logged"
    if start.route is Route.RECURRING:
        return _recurring(start)
    if start.route is Route.REVIEW:
        return _review(start)
    return _critical(tx("load_case", _load, runtime().plant, start.case_id))


def _critical(case: CaseFile) -> str:
    for workflow, prefix in (
        (holds.line_hold, "hold"),
        (rca.root_cause, "rca"),
        (ncr.ncr_workflow, "ncr"),
    ):
        with SetWorkflowID(f"{prefix}:{case.case_id}"):
            DBOS.start_workflow(workflow, case)
    return "critical: hold, root cause and NCR started"


def _alert(conn: sa.Connection, case: CaseStart) -> None:
    cases_store.record_alert(conn, case.case_id, case.cell_id, case.defect_class, case.route_reason)


def _recurring(case: CaseStart) -> str:
    tx("maintenance_alert", _alert, case)
    line = runtime().plant.cell(case.cell_id).line_id
    notify(
        f"alert:{case.case_id}",
        "maintenance",
        f"{case.cell_id} ({line}): {case.route_reason}",
        "case",
        case.case_id,
    )
    return "alerted"


def _review_state(case_id: str) -> str | None:
    """The case's state once a person has resolved it, else None."""
    with runtime().engine.connect() as conn:
        view = cases_store.get_case(conn, case_id)
    if view is None or view.state in cases_store.OPEN_REVIEW:
        return None
    return str(view.state)


def _escalate(conn: sa.Connection, case_id: str) -> None:
    view = cases_store.get_case(conn, case_id)
    if view is None or view.state not in cases_store.OPEN_REVIEW:
        return
    state = CaseState.ESCALATED if view.state is CaseState.AWAITING_REVIEW else view.state
    entry = AuditEntry("system", "case.escalated", "case", case_id, "review deadline passed")
    cases_store.set_state(conn, case_id, state, entry, escalated_at=sa.func.now())


def _propose(conn: sa.Connection, plant: PlantConfig, cell_id: str) -> int | None:
    current, resolved = proposals_store.resolved_scores(conn, cell_id)
    if current is None:
        return None
    rules = ProposalRules(plant.proposal_min_cases, plant.proposal_min_false_alarms)
    proposal = propose_threshold(current, resolved, rules)
    if proposal is None:
        return None
    return proposals_store.save_proposal(conn, cell_id, proposal, len(resolved))


def _review(case: CaseStart) -> str:
    check = partial(_review_state, case.case_id)
    deadline = case.deadline.timestamp() if case.deadline else None
    state = wait_for(REVIEW_TOPIC, "review_check", check, deadline)
    if state is None:
        tx("escalate", _escalate, case.case_id)
        notify(
            f"escalate:{case.case_id}",
            "review_overdue",
            f"review of {case.case_id} is overdue",
            "case",
            case.case_id,
        )
        state = wait_for(REVIEW_TOPIC, "review_check", check)
    tx("propose_threshold", _propose, runtime().plant, case.cell_id)
    return state or ""
