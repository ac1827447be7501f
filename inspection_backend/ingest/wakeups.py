"""Ingest and the dispatcher in different processes: after each commit that stored new FAILs,
ingest sends a PostgreSQL NOTIFY (the critical verdicts' ids, or just a wake-up); every process
with a dispatcher LISTENs. Dispatchers also poll, so a lost notification only costs a poll."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import sqlalchemy as sa

CHANNEL = "inspection_dispatch"
WAKE = "wake"
_MAX_PAYLOAD = 7000  # NOTIFY payloads must stay below 8000 bytes


def notify_dispatch(engine: sa.Engine, critical_ids: list[str]) -> None:
    payloads = []
    chunk: list[str] = []
    for message_id in critical_ids:
        if sum(len(i) + 1 for i in chunk) + len(message_id) > _MAX_PAYLOAD:
            payloads.append("\n".join(chunk))
            chunk = []
        chunk.append(message_id)
    payloads.append("\n".join(chunk) if chunk else WAKE)
    with engine.begin() as conn:
        for payload in payloads:
            conn.execute(sa.text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": payload})


class DispatchListener:
    """LISTEN on its own connection; calls on_critical(ids) or on_wake() per notification."""

    def __init__(
        self,
        engine: sa.Engine,
        on_critical: Callable[[list[str]], None],
        on_wake: Callable[[], None],
    ) -> None:
        url = engine.url.set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._on_critical, self._on_wake = on_critical, on_wake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dispatch-listen", daemon=True)
        self.last_error = ""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._deliver(note.payload)
            except psycopg.Error as exc:  # database restarting: listen again shortly
                self.last_error = str(exc)[:300]
                self._stop.wait(1.0)

    def _deliver(self, payload: str) -> None:
        if payload == WAKE:
            self._on_wake()
        else:
            self._on_critical([i for i in payload.split("\n") if i])
