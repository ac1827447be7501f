"""Durable outbox: messages are stored in SQLite (WAL) before they are published, and deleted only
once the broker has acknowledged them.

Producers (the bridge's ROS callbacks) only `put()`: one small local transaction, never the
network, so a broker outage can never block the gate or the actuator. A publisher (`MqttLink`)
reads in `seq` order, publishes, and `ack()`s what the broker confirmed. Each message has a stable
`msg_id`; putting the same id twice stores it once, and the receiver drops duplicates by it.

WAL with `synchronous=FULL` means a committed `put()` survives a kill -9 or a power cut, and
several processes may open the same file (the bench writes from one process and drains from
another). Capacity is bounded: past `max_messages` the oldest rows are dropped and counted, never
silently (the default is sized for 48 h at 50 units/s, see the bridge section of README.md).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from inspection_nodes.core.common.sqlite import connect

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_stats (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
# 48 h x 3600 s x 50 units/s x (verdict + actuator event) plus stability reports.
DEFAULT_MAX_MESSAGES = 18_000_000


@dataclass(frozen=True)
class OutboxMessage:
    """One stored message; `seq` orders the drain, `msg_id` lets the receiver de-duplicate."""

    seq: int
    msg_id: str
    topic: str
    payload: bytes


class Outbox:
    """The outbox file; one instance per thread or process (the connection is guarded by a lock)."""

    def __init__(self, path: Path, max_messages: int = DEFAULT_MAX_MESSAGES) -> None:
        if max_messages < 1:
            raise ValueError(f"max_messages must be >= 1, got {max_messages}")
        self.path = Path(path)
        self.max_messages = max_messages
        self._conn = connect(self.path)
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def put(self, msg_id: str, topic: str, payload: bytes) -> bool:
        """Store one message (committed on return); False when that id is already queued."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                cur = self._conn.execute(
                    "INSERT OR IGNORE INTO outbox (msg_id, topic, payload, created_ns) "
                    "VALUES (?, ?, ?, ?)",
                    (msg_id, topic, payload, time.time_ns()),
                )
                stored = cur.rowcount == 1
                if stored:
                    self._evict_overflow()
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            return stored

    def _evict_overflow(self) -> None:
        # Checked on each put by rowid span: cheap, and exact because rows leave in seq order
        # except for out-of-order acks, which only make the queue shorter than the span says.
        row = self._conn.execute("SELECT MIN(seq), MAX(seq) FROM outbox").fetchone()
        if row[0] is None or row[1] - row[0] + 1 <= self.max_messages:
            return
        cur = self._conn.execute("DELETE FROM outbox WHERE seq <= ?", (row[1] - self.max_messages,))
        self._conn.execute(
            "INSERT INTO outbox_stats VALUES ('dropped_overflow', ?) "
            "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            (cur.rowcount,),
        )

    def after(self, seq: int, limit: int) -> list[OutboxMessage]:
        """The next `limit` messages with a seq above `seq`, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, msg_id, topic, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            ).fetchall()
        return [OutboxMessage(r[0], r[1], r[2], bytes(r[3])) for r in rows]

    def ack(self, seqs: list[int]) -> None:
        """Delete messages the broker acknowledged (in any order; one transaction)."""
        if not seqs:
            return
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
            self._conn.execute("COMMIT")

    def depth(self) -> int:
        """Queued messages, from the seq span: O(log n) even with millions queued. Exact while
        acks arrive in order; within the in-flight window it may overstate by a few."""
        with self._lock:
            low, high = self._conn.execute("SELECT MIN(seq), MAX(seq) FROM outbox").fetchone()
        return 0 if low is None else int(high - low + 1)

    def dropped(self) -> int:
        """Messages evicted because the outbox was full (reported as a counter, never silent)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT value FROM outbox_stats WHERE name = 'dropped_overflow'"
            ).fetchone()
        return int(row[0]) if row else 0
