"""Evidence store: encrypted round trip, wrong key, age/size eviction, kill -9 durability."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspection_nodes.core.evidence.crypto import Cipher, EvidenceKeyError
from inspection_nodes.core.evidence.store import EvidenceItem, EvidenceStore

KEY = bytes(range(32))


def _items(n: int = 1000) -> list[EvidenceItem]:
    return [
        EvidenceItem("frame", "image/png", b"\x89PNG" + os.urandom(n)),
        EvidenceItem("verdict", "application/json", b'{"decision": "PASS"}'),
    ]


def test_round_trip_and_plaintext_not_on_disk(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, Cipher(KEY))
    store.record(100, "u1", _items())
    store.record(100, "u1", [EvidenceItem("disposition", "application/json", b'{"secret": 1}')])
    store.close()
    assert b"secret" not in (tmp_path / "evidence.db").read_bytes()
    again = EvidenceStore(tmp_path, Cipher(KEY))
    kinds = [(i.kind, i.data[:4]) for i in again.items(100)]
    assert kinds == [("frame", b"\x89PNG"), ("verdict", b'{"de'), ("disposition", b'{"se')]
    assert again.units() == [(100, "u1")]


def test_wrong_key_is_refused_at_open(tmp_path: Path) -> None:
    EvidenceStore(tmp_path, Cipher(KEY)).record(1, "u1", _items())
    with pytest.raises(EvidenceKeyError, match="written with key id"):
        EvidenceStore(tmp_path, Cipher(os.urandom(32)))


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown evidence kind"):
        EvidenceStore(tmp_path, Cipher(KEY)).record(1, "u", [EvidenceItem("x", "y", b"")])


def test_eviction_by_age_reports_unsynced(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, Cipher(KEY), max_age_s=10)
    for stamp in range(4):
        store.record(stamp, f"u{stamp}", _items(10))
    store.mark_synced([0])
    now = time.time_ns()
    assert store.evict(now).units == 0
    report = store.evict(now + int(11e9))
    assert (report.units, report.unsynced_units) == (4, 3)
    assert store.units() == []


def test_eviction_by_size_keeps_newest(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, Cipher(KEY), max_bytes=5000)
    for stamp in range(5):
        store.record(stamp, f"u{stamp}", _items(1000))  # ~1.1 kB per unit
    report = store.evict()
    assert report.units == 1
    assert [u for _, u in store.units()] == ["u1", "u2", "u3", "u4"]
    assert store.stored_bytes() <= 5000


_WRITER = """
import os, sys
from pathlib import Path
from inspection_nodes.core.evidence.crypto import Cipher
from inspection_nodes.core.evidence.store import EvidenceItem, EvidenceStore
store = EvidenceStore(Path(sys.argv[1]), Cipher(bytes(range(32))))
stamp = 0
print("ready", flush=True)
while True:
    stamp += 1
    store.record(stamp, f"u{stamp}", [
        EvidenceItem("frame", "image/png", os.urandom(200_000)),
        EvidenceItem("heatmap", "image/png", os.urandom(50_000)),
        EvidenceItem("verdict", "application/json", b'{"decision": "FAIL"}'),
    ])
"""


@pytest.mark.parametrize("delay_s", [0.4, 0.9])
def test_kill_9_mid_write_leaves_a_consistent_store(tmp_path: Path, delay_s: float) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(delay_s)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    conn = sqlite3.connect(tmp_path / "evidence.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    store = EvidenceStore(tmp_path, Cipher(KEY))
    units = store.units()
    assert len(units) > 2
    for stamp, _ in units:
        assert [i.kind for i in store.items(stamp)] == ["frame", "heatmap", "verdict"]
    store.record(10**9, "after", _items())  # and it still takes writes
