"""Several backend processes on one PostgreSQL: each heartbeats; a dead one's work is recovered.

DBOS recovers, at start, only the workflows of its own executor id. When a process dies for
good, another must take its pending workflows over: every process beats every `beat_s`; one
whose beat is older than `dead_after_s` is claimed by the first live process that takes its
row lock, its PENDING workflows are re-enqueued (DBOS admin recovery; each is then run by
exactly one executor), and its row is removed. A process that comes back simply beats again.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from inspection_backend.db.tables import executors


class ExecutorWatch:
    def __init__(
        self,
        engine: sa.Engine,
        executor_id: str,
        recover: Callable[[list[str]], int],
        beat_s: float = 2.0,
        dead_after_s: float = 10.0,
    ) -> None:
        self._engine = engine
        self._id = executor_id
        self._recover = recover
        self._beat_s = beat_s
        self._dead_after = timedelta(seconds=dead_after_s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="executor-watch", daemon=True)
        self.recovered: dict[str, int] = {}
        self.last_error = ""

    def start(self) -> None:
        self.beat()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def beat(self) -> None:
        values = {"executor_id": self._id, "pid": os.getpid(), "host": socket.gethostname()}
        with self._engine.begin() as conn:
            conn.execute(
                insert(executors)
                .values(**values)
                .on_conflict_do_update(
                    index_elements=[executors.c.executor_id],
                    set_={"heartbeat_at": sa.func.now(), "pid": values["pid"]},
                )
            )

    def take_over_dead(self) -> list[str]:
        """Recover every executor that stopped beating; returns their ids."""
        taken = []
        with self._engine.begin() as conn:
            dead = (
                conn.execute(
                    sa.select(executors.c.executor_id)
                    .where(
                        executors.c.executor_id != self._id,
                        executors.c.heartbeat_at < datetime.now(UTC) - self._dead_after,
                    )
                    .with_for_update(skip_locked=True)
                )
                .scalars()
                .all()
            )
            for executor_id in dead:
                self.recovered[executor_id] = self._recover([executor_id])
                conn.execute(executors.delete().where(executors.c.executor_id == executor_id))
                taken.append(executor_id)
        return taken

    def _run(self) -> None:
        while not self._stop.wait(self._beat_s):
            try:
                self.beat()
                self.take_over_dead()
            except Exception as exc:  # database briefly away: beat again next time
                self.last_error = str(exc)[:500]
