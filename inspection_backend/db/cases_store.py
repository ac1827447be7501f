"""Cases: a failed unit routed by the station's policy, and everything people decide about it.

`route_pending` turns FAIL verdicts that are not dispatched yet into cases in one transaction
(several processes can run it: rows are claimed with SKIP LOCKED). The case id is the business
key `unit:<cell>:<unit>`, also the id of the unit's workflow, so a verdict delivered twice, or
routed again after a crash, can never give a second case or a second workflow.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from inspection_backend.core.plant import PlantConfig
from inspection_backend.core.review import CaseState, ReviewDecision, ReviewVerdict
from inspection_backend.core.routing import (
    CriticalRule,
    RecurringRule,
    ReviewRule,
    Route,
    RoutingPolicy,
    VerdictFacts,
    decide_route,
    facts_of,
)
from inspection_backend.db import audit
from inspection_backend.db.audit import AuditEntry
from inspection_backend.db.tables import (
    cases,
    inspector_labels,
    maintenance_alerts,
    unit_context,
    verdicts,
)

SYSTEM = "system"
_INITIAL_STATE = {
    Route.CRITICAL: CaseState.HOLD,
    Route.RECURRING: CaseState.ALERTED,
    Route.REVIEW: CaseState.AWAITING_REVIEW,
    Route.LOG: CaseState.LOGGED,
}


# A person still has to decide these (re-inspection waits for the second look).
OPEN_REVIEW = (CaseState.AWAITING_REVIEW, CaseState.ESCALATED, CaseState.REINSPECT)


# For a FAIL whose cell has no policy (any more): every unit goes to a person, never to "log".
_NO_POLICY = RoutingPolicy(
    station="(none)",
    version=0,
    critical=CriticalRule(),
    review=ReviewRule(margin=float("inf")),
    recurring=RecurringRule(),
)


def case_id_for(cell_id: str, unit_id: str) -> str:
    return f"unit:{cell_id}:{unit_id}"


@dataclass(frozen=True)
class CaseStart:
    """What a case's workflow starts with: enough for the review and recurring routes to run
    without reading the case again (critical cases read their whole CaseFile)."""

    case_id: str
    route: Route
    cell_id: str = ""
    defect_class: str = ""
    route_reason: str = ""
    deadline: datetime | None = None


@dataclass(frozen=True)
class CaseView:
    """A case with the verdict facts the workflows and pages need."""

    case_id: str
    cell_id: str
    unit_id: str
    route: Route
    route_reason: str
    defect_class: str
    state: CaseState
    stamp: datetime
    deadline: datetime | None
    score: float | None
    image_threshold: float | None
    model_version: str
    image_sha256: str | None
    heatmap_sha256: str | None
    outcome: str | None
    confirmed_class: str | None


def _facts(row: sa.Row) -> VerdictFacts:
    detections = [(d["class_name"], float(d["confidence"])) for d in (row.detections or ())]
    return facts_of(row.score, row.image_threshold, row.area_ratio, detections)


class _RecentFailures:
    """Stamps of earlier cases per (cell, defect class), read once per routing batch; the
    batch's own cases are added as they are routed, in capture order."""

    def __init__(self, conn: sa.Connection, rows: Sequence[sa.Row], window_s: float) -> None:
        self._stamps: dict[tuple[str, str], list[datetime]] = {}
        if not rows or window_s <= 0:
            return
        earliest = min(r.stamp for r in rows) - timedelta(seconds=window_s)
        latest = max(r.stamp for r in rows)
        found = conn.execute(
            sa.select(cases.c.cell_id, cases.c.defect_class, cases.c.stamp)
            .where(
                cases.c.cell_id.in_({r.cell_id for r in rows}),
                cases.c.stamp >= earliest,
                cases.c.stamp <= latest,
            )
            .order_by(cases.c.stamp)
        )
        for r in found:
            self._stamps.setdefault((r.cell_id, r.defect_class), []).append(r.stamp)

    def count_before(
        self, cell_id: str, defect_class: str, stamp: datetime, window_s: float
    ) -> int:
        stamps = self._stamps.get((cell_id, defect_class), [])
        since = stamp - timedelta(seconds=window_s)
        return bisect.bisect_left(stamps, stamp) - bisect.bisect_left(stamps, since)

    def add(self, cell_id: str, defect_class: str, stamp: datetime) -> None:
        bisect.insort(self._stamps.setdefault((cell_id, defect_class), []), stamp)


def route_pending(
    conn: sa.Connection,
    plant: PlantConfig,
    limit: int = 500,
    message_ids: Sequence[str] | None = None,
) -> int:
    """Route up to `limit` undispatched FAIL verdicts (oldest first, or just `message_ids`)
    into cases; returns how many were routed."""
    query = sa.select(verdicts).where(verdicts.c.decision == "FAIL", sa.not_(verdicts.c.dispatched))
    if message_ids is not None:
        query = query.where(verdicts.c.message_id.in_(list(message_ids)))
    rows = conn.execute(
        query.order_by(verdicts.c.received_at).limit(limit).with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return 0
    longest_window = max(p.recurring.window_s for p in plant.policies.values())
    recent = _RecentFailures(conn, rows, longest_window)
    new_cases: list[dict[str, Any]] = []
    entries: list[AuditEntry] = []
    routed: set[str] = set()
    for row in sorted(rows, key=lambda r: (r.stamp, r.message_id)):
        facts = _facts(row)
        try:
            policy = plant.policy_for(row.cell_id)
        except KeyError:  # the cell left the plant file after its FAIL arrived
            policy = _NO_POLICY
        similar = 0
        if policy.recurring.enabled:
            similar = recent.count_before(
                row.cell_id, facts.defect_class, row.stamp, policy.recurring.window_s
            )
        recent.add(row.cell_id, facts.defect_class, row.stamp)
        decision = decide_route(policy, facts, similar)
        case_id = case_id_for(row.cell_id, row.unit_id)
        if case_id in routed:  # a second verdict of one unit in the batch: the first decides
            continue
        routed.add(case_id)
        new_cases.append(
            {
                "case_id": case_id,
                "cell_id": row.cell_id,
                "unit_id": row.unit_id,
                "verdict_id": row.message_id,
                "stamp": row.stamp,
                "route": str(decision.route),
                "route_reason": decision.reason,
                "defect_class": decision.defect_class,
                "policy_station": policy.station,
                "policy_version": policy.version,
                "state": str(_INITIAL_STATE[decision.route]),
                "deadline": (
                    plant.shifts.review_deadline(row.stamp)
                    if decision.route is Route.REVIEW
                    else None
                ),
            }
        )
        entries.append(
            AuditEntry(
                SYSTEM,
                "case.routed",
                "case",
                case_id,
                decision.reason,
                {
                    "route": str(decision.route),
                    "verdict_id": row.message_id,
                    "policy": f"{policy.station}@{policy.version}",
                    "policy_sha256": policy.sha256,
                    "similar_before": similar,
                },
            )
        )
    conn.execute(insert(cases).on_conflict_do_nothing(), new_cases)
    conn.execute(
        verdicts.update()
        .where(verdicts.c.message_id.in_([r.message_id for r in rows]))
        .values(dispatched=True)
    )
    audit.record_many(conn, entries)
    return len(rows)


def pending_starts(
    conn: sa.Connection, limit: int = 500, critical_only: bool = False
) -> list[CaseStart]:
    """Cases whose workflow has not been started (or not marked started) yet, critical ones
    first: a line hold must not queue behind routine cases."""
    query = sa.select(
        cases.c.case_id,
        cases.c.route,
        cases.c.cell_id,
        cases.c.defect_class,
        cases.c.route_reason,
        cases.c.deadline,
    ).where(sa.not_(cases.c.workflow_started))
    if critical_only:
        query = query.where(cases.c.route == str(Route.CRITICAL))
    rows = conn.execute(
        query.order_by((cases.c.route == str(Route.CRITICAL)).desc(), cases.c.created_at).limit(
            limit
        )
    ).all()
    return [
        CaseStart(r.case_id, Route(r.route), r.cell_id, r.defect_class, r.route_reason, r.deadline)
        for r in rows
    ]


def mark_started(conn: sa.Connection, case_ids: Sequence[str]) -> None:
    if case_ids:
        conn.execute(
            cases.update().where(cases.c.case_id.in_(case_ids)).values(workflow_started=True)
        )


def _case_query() -> sa.Select:
    """A case with the verdict columns of CaseView."""
    return sa.select(
        cases,
        verdicts.c.score,
        verdicts.c.image_threshold,
        verdicts.c.model_version,
        verdicts.c.image_sha256,
        verdicts.c.heatmap_sha256,
    ).join(verdicts, verdicts.c.message_id == cases.c.verdict_id)


def get_case(conn: sa.Connection, case_id: str) -> CaseView | None:
    row = conn.execute(_case_query().where(cases.c.case_id == case_id)).first()
    return _view(row) if row is not None else None


def _view(row: sa.Row) -> CaseView:
    return CaseView(
        case_id=row.case_id,
        cell_id=row.cell_id,
        unit_id=row.unit_id,
        route=Route(row.route),
        route_reason=row.route_reason,
        defect_class=row.defect_class,
        state=CaseState(row.state),
        stamp=row.stamp,
        deadline=row.deadline,
        score=row.score,
        image_threshold=row.image_threshold,
        model_version=row.model_version,
        image_sha256=row.image_sha256,
        heatmap_sha256=row.heatmap_sha256,
        outcome=row.outcome,
        confirmed_class=row.confirmed_class,
    )


def list_cases(
    conn: sa.Connection, states: Sequence[CaseState] | None = None, limit: int = 200
) -> list[CaseView]:
    query = _case_query().order_by(cases.c.created_at.desc(), cases.c.case_id).limit(limit)
    if states is not None:
        query = query.where(cases.c.state.in_([str(s) for s in states]))
    return [_view(r) for r in conn.execute(query)]


def review_queue(conn: sa.Connection, limit: int = 200) -> list[CaseView]:
    """Cases waiting for a person, oldest deadline first (the most urgent on top)."""
    query = (
        _case_query()
        .where(cases.c.state.in_([str(s) for s in OPEN_REVIEW]))
        .order_by(cases.c.deadline.nulls_last(), cases.c.stamp, cases.c.case_id)
        .limit(limit)
    )
    return [_view(r) for r in conn.execute(query)]


def set_state(
    conn: sa.Connection, case_id: str, state: CaseState, entry: AuditEntry, **values: Any
) -> None:
    """Move a case to `state` (plus any column values) and audit it, on one transaction."""
    conn.execute(
        cases.update()
        .where(cases.c.case_id == case_id)
        .values(state=str(state), updated_at=sa.func.now(), **values)
    )
    audit.record(conn, entry)


def apply_review(conn: sa.Connection, case_id: str, decision: ReviewDecision, step: int) -> None:
    """Record a person's decision on the case and as an inspector label (raw layer)."""
    view = get_case(conn, case_id)
    if view is None:
        raise KeyError(case_id)
    outcome = decision.outcome
    state = CaseState.REINSPECT if outcome is None else CaseState.RESOLVED
    values: dict[str, Any] = {}
    if outcome is not None:
        values = {
            "outcome": str(outcome),
            "confirmed_class": decision.defect_class or None,
            "resolved_by": decision.reviewer,
            "resolved_at": sa.func.now(),
        }
    entry = AuditEntry(
        decision.reviewer,
        f"case.review.{decision.verdict}",
        "case",
        case_id,
        decision.note,
        {"defect_class": decision.defect_class},
    )
    set_state(conn, case_id, state, entry, **values)
    conn.execute(
        insert(inspector_labels).on_conflict_do_nothing(),
        [
            {
                "message_id": f"review:{case_id}:{step}",
                "line_id": None,
                "cell_id": view.cell_id,
                "unit_id": view.unit_id,
                "inspector": decision.reviewer,
                "category": _LABEL_CATEGORY[decision.verdict],
                "defect_class": decision.defect_class or None,
                "description": decision.note or None,
                "source": "review",
                "stamp": datetime.now(UTC),
            }
        ],
    )


_LABEL_CATEGORY = {
    ReviewVerdict.PASS: "no_defect",
    ReviewVerdict.FAIL: "defect",
    ReviewVerdict.REINSPECT: "needs_reinspection",
}


def export_labels(conn: sa.Connection) -> list[dict[str, Any]]:
    """Resolved cases as training labels for the cell (one row per unit)."""
    rows = conn.execute(
        sa.select(
            cases.c.case_id,
            cases.c.cell_id,
            cases.c.unit_id,
            cases.c.outcome,
            cases.c.defect_class,
            cases.c.confirmed_class,
            cases.c.resolved_by,
            cases.c.resolved_at,
            verdicts.c.score,
            verdicts.c.model_version,
            verdicts.c.image_sha256,
            verdicts.c.evidence_ref,
        )
        .join(verdicts, verdicts.c.message_id == cases.c.verdict_id)
        .where(cases.c.outcome.is_not(None))
        .order_by(cases.c.resolved_at, cases.c.case_id)
    )
    return [dict(r._mapping) for r in rows]


def record_alert(
    conn: sa.Connection, case_id: str, cell_id: str, defect_class: str, reason: str
) -> None:
    """The recurring-pattern alert of a case (once)."""
    inserted = conn.execute(
        insert(maintenance_alerts)
        .values(case_id=case_id, cell_id=cell_id, defect_class=defect_class, reason=reason)
        .on_conflict_do_nothing()
        .returning(maintenance_alerts.c.case_id)
    ).first()
    if inserted is not None:
        audit.record(conn, AuditEntry(SYSTEM, "maintenance.alerted", "case", case_id, reason))


@dataclass(frozen=True)
class CaseFile:
    """Everything the critical-defect workflows need about a case, read once."""

    case_id: str
    cell_id: str
    unit_id: str
    line_id: str
    station: str
    defect_class: str
    route_reason: str
    stamp: datetime
    deadline: datetime | None
    score: float | None
    model_version: str
    image_sha256: str | None
    heatmap_sha256: str | None
    sku: str | None
    lot: str | None
    supplier_batch: str | None


def case_file(conn: sa.Connection, plant: PlantConfig, case_id: str) -> CaseFile:
    view = get_case(conn, case_id)
    if view is None:
        raise KeyError(f"no case {case_id}")
    context = conn.execute(
        sa.select(unit_context.c.sku, unit_context.c.lot, unit_context.c.supplier_batch)
        .where(unit_context.c.cell_id == view.cell_id, unit_context.c.unit_id == view.unit_id)
        .order_by(unit_context.c.received_at.desc())
        .limit(1)
    ).first()
    cell = plant.cell(view.cell_id)
    return CaseFile(
        case_id=case_id,
        cell_id=view.cell_id,
        unit_id=view.unit_id,
        line_id=cell.line_id,
        station=cell.station,
        defect_class=view.defect_class,
        route_reason=view.route_reason,
        stamp=view.stamp,
        deadline=view.deadline,
        score=view.score,
        model_version=view.model_version,
        image_sha256=view.image_sha256,
        heatmap_sha256=view.heatmap_sha256,
        sku=context.sku if context else None,
        lot=context.lot if context else None,
        supplier_batch=context.supplier_batch if context else None,
    )


def labels_of(conn: sa.Connection, cell_id: str, unit_id: str) -> list[sa.Row]:
    return list(
        conn.execute(
            sa.select(inspector_labels)
            .where(inspector_labels.c.cell_id == cell_id, inspector_labels.c.unit_id == unit_id)
            .order_by(inspector_labels.c.received_at)
        )
    )


def lock_case(conn: sa.Connection, case_id: str) -> None:
    """Row lock for the rest of the transaction: two people deciding at once are serialised."""
    conn.execute(sa.select(cases.c.case_id).where(cases.c.case_id == case_id).with_for_update())
