"""Cases: routing of stored FAIL verdicts (once, with the policy version), the recurring count
across batches, start order, and people's decisions with their audit rows and labels."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from helpers.backend_data import store, synced

from inspection_backend.core.review import CaseState, ReviewDecision, ReviewVerdict
from inspection_backend.core.routing import Route
from inspection_backend.db import audit, cases_store
from inspection_backend.simulator import messages as m

T0 = 1_800_000_000 * 10**9  # 2027-01-15 08:00 UTC
SECOND = 10**9


def fail(unit: str, score: float, stamp: int, cell: str = "cell-1", **extra) -> dict:
    return m.verdict(cell, unit, stamp, "FAIL", score, 2.0, **extra)


def route(engine, plant, **kwargs) -> int:
    with engine.begin() as conn:
        return cases_store.route_pending(conn, plant, **kwargs)


def test_each_fail_becomes_one_case_with_its_route_and_policy(engine):
    plant = synced(engine)
    store(
        engine,
        fail("crit", 5.0, T0),
        fail("border", 2.1, T0 + SECOND),
        fail("plain", 3.0, T0 + 2 * SECOND, cell="cell-2"),
        m.verdict("cell-1", "ok", T0, "PASS", 1.0, 2.0),
    )
    assert route(engine, plant) == 3
    assert route(engine, plant) == 0  # dispatched verdicts are not routed again
    with engine.connect() as conn:
        got = {c.unit_id: c for c in cases_store.list_cases(conn)}
        entry = audit.history(conn, "case", "unit:cell-1:crit")[0]
    assert {u: c.route for u, c in got.items()} == {
        "crit": Route.CRITICAL,
        "border": Route.REVIEW,
        "plain": Route.LOG,
    }
    assert got["border"].state is CaseState.AWAITING_REVIEW
    assert got["border"].deadline == datetime(2027, 1, 15, 14, 0, tzinfo=UTC)  # end of shift A
    assert got["crit"].deadline is None
    assert entry.detail["policy"] == "bottle@1" and len(entry.detail["policy_sha256"]) == 64


def test_recurring_counts_earlier_cases_across_batches(engine):
    plant = synced(engine)
    store(engine, fail("a", 3.0, T0), fail("b", 3.0, T0 + 60 * SECOND))
    route(engine, plant)
    store(
        engine,
        fail("c", 3.0, T0 + 120 * SECOND),  # third within 900 s: alert
        fail("d", 3.0, T0 + 130 * SECOND),  # fourth: already alerted for this burst
        fail("e", 3.0, T0 + 2000 * SECOND),  # window passed
        fail("x", 3.0, T0 + 125 * SECOND, cell="cell-2"),  # other cell
    )
    route(engine, plant)
    with engine.connect() as conn:
        routes = {c.unit_id: c.route for c in cases_store.list_cases(conn)}
    assert routes == {
        "a": Route.LOG, "b": Route.LOG, "c": Route.RECURRING, "d": Route.LOG,
        "e": Route.LOG, "x": Route.LOG,
    }  # fmt: skip


def test_only_the_named_verdicts_and_critical_ones_start_first(engine):
    plant = synced(engine)
    store(engine, fail("p", 3.0, T0), fail("c", 6.0, T0 + SECOND))
    crit_id = fail("c", 6.0, T0 + SECOND)["id"]
    assert route(engine, plant, limit=10, message_ids=[crit_id]) == 1
    route(engine, plant)
    with engine.connect() as conn:
        starts = cases_store.pending_starts(conn)
        only = cases_store.pending_starts(conn, critical_only=True)
    assert [s.case_id for s in starts] == ["unit:cell-1:c", "unit:cell-1:p"]
    assert [s.case_id for s in only] == ["unit:cell-1:c"]
    with engine.begin() as conn:
        cases_store.mark_started(conn, ["unit:cell-1:c"])
    with engine.connect() as conn:
        assert [s.case_id for s in cases_store.pending_starts(conn)] == ["unit:cell-1:p"]


def test_a_second_verdict_of_one_unit_keeps_one_case(engine):
    plant = synced(engine)
    store(engine, fail("twice", 3.0, T0), fail("twice", 2.1, T0 + SECOND))
    route(engine, plant)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM cases")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM verdicts WHERE dispatched")).scalar() == 2


def test_review_decision_resolves_case_and_labels_the_unit(engine):
    plant = synced(engine)
    store(engine, fail("r", 2.1, T0), fail("q", 2.1, T0 + SECOND))
    route(engine, plant)
    with engine.begin() as conn:
        cases_store.apply_review(
            conn, "unit:cell-1:r", ReviewDecision(ReviewVerdict.FAIL, "olga", "broken_small"), 0
        )
        cases_store.apply_review(
            conn, "unit:cell-1:q", ReviewDecision(ReviewVerdict.REINSPECT, "olga"), 0
        )
    with engine.connect() as conn:
        r = cases_store.get_case(conn, "unit:cell-1:r")
        q = cases_store.get_case(conn, "unit:cell-1:q")
        labels = cases_store.labels_of(conn, "cell-1", "r")
        exported = cases_store.export_labels(conn)
        actions = [e.action for e in audit.history(conn, "case", "unit:cell-1:r")]
    assert (r.state, r.outcome, r.confirmed_class) == (
        CaseState.RESOLVED,
        "true_positive",
        "broken_small",
    )
    assert q.state is CaseState.REINSPECT and q.outcome is None
    assert [(lb.inspector, lb.category, lb.source) for lb in labels] == [
        ("olga", "defect", "review")
    ]
    assert [e["unit_id"] for e in exported] == ["r"]
    assert actions == ["case.routed", "case.review.fail"]


def test_review_queue_orders_by_deadline(engine):
    plant = synced(engine)
    store(engine, fail("late", 2.1, T0 + 9 * 3600 * SECOND), fail("early", 2.1, T0))
    route(engine, plant)
    with engine.connect() as conn:
        assert [c.unit_id for c in cases_store.review_queue(conn)] == ["early", "late"]


def test_a_fail_of_a_cell_without_policy_goes_to_a_person(engine):
    import dataclasses

    plant = synced(engine)
    store(engine, fail("orphan", 3.0, T0, cell="cell-3"))
    without = dataclasses.replace(
        plant, cells=tuple(c for c in plant.cells if c.cell_id != "cell-3")
    )
    assert route(engine, without) == 1
    with engine.connect() as conn:
        case = cases_store.get_case(conn, "unit:cell-3:orphan")
    assert case.route is Route.REVIEW and "borderline" in case.route_reason
