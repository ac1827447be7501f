"""Root-cause analysis of a critical case (workflow id `rca:<case id>`): analyse, store, and
publish the statement as the workflow event `root_cause` for the NCR workflow."""

from __future__ import annotations

import sqlalchemy as sa
from dbos import DBOS

from inspection_backend.agents import root_cause as agent
from inspection_backend.db import rca_store
from inspection_backend.db.cases_store import CaseFile
from inspection_backend.workflows.runtime import runtime, step, tx, until_database_answers

EVENT = "root_cause"


def _analyse(case: CaseFile) -> agent.RootCauseReport:
    rt = runtime()
    return agent.analyse(rt.engine, rt.plant, rt.explainer, case)


def _store(conn: sa.Connection, case_id: str, report: agent.RootCauseReport) -> None:
    rca_store.store_result(
        conn,
        case_id,
        report.summary,
        list(report.hypotheses),
        report.units_considered,
        report.method,
    )


@DBOS.workflow(name="root_cause")
def root_cause(case: CaseFile) -> str:
    report = step("rca_analyse", until_database_answers, _analyse, case)
    tx("rca_store", _store, case.case_id, report)
    DBOS.set_event(EVENT, report.summary)
    return report.summary
