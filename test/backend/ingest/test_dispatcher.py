"""Dispatcher: routes stored FAILs into cases and starts each case's workflow once, critical
ones on their own lane; a dispatcher that died between the phases is caught up by the next."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from helpers.backend_data import store, synced
from helpers.backend_services import wait_until

from inspection_backend.db import cases_store
from inspection_backend.ingest.dispatcher import Dispatcher
from inspection_backend.simulator import messages as m

T0 = 1_800_000_000 * 10**9


class Starts:
    """Records what the dispatcher asks to start (the workflow engine's entry point)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, start) -> None:
        with self.lock:
            self.seen.append(start.case_id)


def test_routes_and_starts_each_case_once(engine):
    plant = synced(engine)
    store(
        engine, *[m.verdict("cell-2", f"u{i}", T0 + i * 10**12, "FAIL", 3.0, 2.0) for i in range(5)]
    )
    starts = Starts()
    dispatcher = Dispatcher(engine, plant, starts, route_batch=2, start_batch=2)
    while dispatcher.pass_once():
        pass
    assert sorted(starts.seen) == sorted(f"unit:cell-2:u{i}" for i in range(5))
    with engine.connect() as conn:
        assert cases_store.pending_starts(conn) == []


def test_cases_left_unstarted_by_a_crash_are_started_later(engine):
    plant = synced(engine)
    store(engine, m.verdict("cell-1", "left", T0, "FAIL", 3.0, 2.0))
    with engine.begin() as conn:  # a dispatcher that died right after routing
        cases_store.route_pending(conn, plant)
    starts = Starts()
    Dispatcher(engine, plant, starts).pass_once()
    assert starts.seen == ["unit:cell-1:left"]


def test_critical_lane_starts_only_the_named_critical_case(engine):
    plant = synced(engine)
    crit = m.verdict("cell-1", "crit", T0, "FAIL", 9.0, 2.0)
    store(engine, m.verdict("cell-2", "plain", T0, "FAIL", 3.0, 2.0), crit)
    starts = Starts()
    dispatcher = Dispatcher(engine, plant, starts, poll_s=30.0)
    dispatcher._thread = threading.Thread(target=lambda: None)  # only the fast lane runs
    dispatcher.start()
    try:
        dispatcher.urgent([crit["id"]])
        wait_until(lambda: starts.seen, 10)
        assert starts.seen == ["unit:cell-1:crit"]
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM cases")).scalar() == 1
    finally:
        dispatcher.stop()
