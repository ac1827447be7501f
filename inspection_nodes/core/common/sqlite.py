"""The one way the cell opens SQLite: durable local stores (bridge outbox, evidence store)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def connect(path: Path, timeout_s: float = 30.0) -> sqlite3.Connection:
    """A WAL-mode connection with FULL sync: a committed transaction survives a kill -9 or a
    power cut, and several processes may open the same file."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), timeout=timeout_s, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn
