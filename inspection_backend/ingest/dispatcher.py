"""From stored FAIL verdicts to running workflows, driven by the database so nothing is lost.

Two idempotent phases, repeated while there is work: route undispatched FAIL verdicts into
cases (one transaction, `cases_store.route_pending`), then start the workflow of every case
not marked started (workflow id = case id, so a second start is a no-op) and mark it. A crash
between any two of these leaves rows that the next pass (in this or another process) picks up.
Ingest wakes the dispatcher after each commit that stored a new FAIL; it also polls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from inspection_backend.core.plant import PlantConfig
from inspection_backend.db import cases_store
from inspection_backend.db.cases_store import CaseStart


class Dispatcher:
    def __init__(
        self,
        engine: sa.Engine,
        plant: PlantConfig,
        start_case: Callable[[CaseStart], None],
        route_batch: int = 200,
        start_batch: int = 64,
        starters: int = 4,
        poll_s: float = 1.0,
    ) -> None:
        self._engine = engine
        self._plant = plant
        self._start_case = start_case
        self._route_batch = route_batch
        self._start_batch = start_batch
        # Starting a workflow is a few database round trips: several at once hide the latency.
        self._pool = ThreadPoolExecutor(starters, thread_name_prefix="dispatch-start")
        self._poll_s = poll_s
        self._wake = threading.Event()
        self._urgent: set[str] = set()
        self._urgent_lock = threading.Lock()
        self._urgent_wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dispatcher", daemon=True)
        self._fast_lane = threading.Thread(
            target=self._run_urgent, name="dispatch-urgent", daemon=True
        )
        self.routed = 0
        self.started = 0
        self.errors = 0
        self.last_error = ""

    def start(self) -> None:
        self._thread.start()
        self._fast_lane.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._urgent_wake.set()
        self._thread.join(timeout_s)
        self._fast_lane.join(timeout_s)
        self._pool.shutdown(wait=True)

    def wake(self) -> None:
        self._wake.set()

    def urgent(self, message_ids: list[str]) -> None:
        """Critical verdicts: routed and started by their own thread, never behind a batch of
        routine ones (rows are claimed with SKIP LOCKED, so both lanes can run at once)."""
        with self._urgent_lock:
            self._urgent.update(message_ids)
        self._urgent_wake.set()

    def _take_urgent(self) -> list[str]:
        with self._urgent_lock:
            ids, self._urgent = list(self._urgent), set()
        return ids

    def pass_once(self) -> int:
        """Route one batch and start one batch of workflows (critical ones first); small
        batches keep a critical case from waiting behind hundreds of routine ones."""
        with self._engine.begin() as conn:
            routed = cases_store.route_pending(conn, self._plant, self._route_batch)
        with self._engine.connect() as conn:
            starts = cases_store.pending_starts(conn, self._start_batch)
        list(self._pool.map(self._start_case, starts))
        with self._engine.begin() as conn:
            cases_store.mark_started(conn, [s.case_id for s in starts])
        self.routed += routed
        self.started += len(starts)
        return routed + len(starts)

    def _urgent_pass(self) -> None:
        urgent = self._take_urgent()
        if not urgent:
            return
        with self._engine.begin() as conn:
            self.routed += cases_store.route_pending(conn, self._plant, len(urgent), urgent)
        with self._engine.connect() as conn:
            starts = cases_store.pending_starts(conn, len(urgent), critical_only=True)
        list(self._pool.map(self._start_case, starts))
        with self._engine.begin() as conn:
            cases_store.mark_started(conn, [s.case_id for s in starts])
        self.started += len(starts)

    def _run_urgent(self) -> None:
        while not self._stop.is_set():
            self._urgent_wake.wait(self._poll_s)
            self._urgent_wake.clear()
            try:
                self._urgent_pass()
            except Exception as exc:  # the normal pass routes them too
                self.errors += 1
                self.last_error = str(exc)[:500]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.pass_once() > 0
            except Exception as exc:  # database restarting: try again on the next pass
                self.errors += 1
                self.last_error = str(exc)[:500]
                busy = False
            if not busy:
                self._wake.wait(self._poll_s)
                self._wake.clear()
