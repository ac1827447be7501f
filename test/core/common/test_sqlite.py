"""The shared SQLite connection: WAL, FULL sync, usable from another thread, parents made."""

import threading
from pathlib import Path

from inspection_nodes.core.common.sqlite import connect


def test_connection_is_durable_and_shared(tmp_path: Path):
    conn = connect(tmp_path / "deep" / "store.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    conn.execute("CREATE TABLE t (x INTEGER)")
    worker = threading.Thread(target=lambda: conn.execute("INSERT INTO t VALUES (1)"))
    worker.start()
    worker.join()
    other = connect(tmp_path / "deep" / "store.db")
    assert other.execute("SELECT x FROM t").fetchall() == [(1,)]
