"""The evidence store: one SQLite file (WAL, FULL sync) of encrypted items per unit, bounded by
age and by size, oldest unit first.

A unit is keyed by its capture stamp (ns). All items written together are one transaction, so a
kill -9 at any point leaves either the whole write or none of it. Eviction deletes whole units,
oldest first: first everything older than `max_age_s`, then more until the stored bytes fit
`max_bytes`. A unit that was never marked synced (exported to the backend) is still evicted,
because a full disk would stop recording everything, but the report counts it so the caller logs
and audits the loss; nothing disappears silently. SQLite reuses freed pages, so the file settles
at about `max_bytes` plus a few percent and does not keep growing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from inspection_nodes.core.common.sqlite import connect
from inspection_nodes.core.evidence.crypto import Cipher, EvidenceKeyError

DB_NAME = "evidence.db"
KINDS = ("frame", "roi", "heatmap", "anomaly_result", "verdict", "actuator_event", "disposition")
_KEY_CHECK = b"inspection evidence store"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS units (
    stamp_ns INTEGER PRIMARY KEY,
    unit_id TEXT NOT NULL,
    recorded_ns INTEGER NOT NULL,
    bytes INTEGER NOT NULL DEFAULT 0,
    synced INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stamp_ns INTEGER NOT NULL REFERENCES units(stamp_ns),
    kind TEXT NOT NULL,
    media_type TEXT NOT NULL,
    blob BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_unit ON items(stamp_ns);
CREATE INDEX IF NOT EXISTS units_by_time ON units(recorded_ns);
"""


@dataclass(frozen=True)
class EvidenceItem:
    """One piece of evidence in clear: `kind` from KINDS, `media_type` image/png, ... ."""

    kind: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class EvictionReport:
    units: int = 0
    bytes: int = 0
    unsynced_units: int = 0


def _aad(stamp_ns: int, kind: str) -> bytes:
    return f"{stamp_ns}:{kind}".encode()


class EvidenceStore:
    """Encrypted, bounded evidence of units in `directory/evidence.db`."""

    def __init__(
        self, directory: Path, cipher: Cipher, max_age_s: float = 48 * 3600, max_bytes: int = 20e9
    ) -> None:
        if max_age_s <= 0 or max_bytes <= 0:
            raise ValueError("evidence max_age_s and max_bytes must be positive")
        self.path = Path(directory) / DB_NAME
        self.max_age_s = max_age_s
        self.max_bytes = int(max_bytes)
        self._cipher = cipher
        self._lock = threading.Lock()
        self._conn = connect(self.path)
        self._conn.executescript(_SCHEMA)
        self._check_key()

    def _check_key(self) -> None:
        """A new store remembers its key id; an existing one refuses any other key up front."""
        row = self._conn.execute("SELECT value FROM meta WHERE name = 'key_check'").fetchone()
        if row is None:
            self._conn.execute(
                "INSERT INTO meta VALUES ('key_check', ?), ('key_id', ?)",
                (self._cipher.seal(_KEY_CHECK, b"key_check"), self._cipher.key_id.encode()),
            )
            return
        stored_id = self._conn.execute("SELECT value FROM meta WHERE name = 'key_id'").fetchone()
        try:
            self._cipher.open(bytes(row[0]), b"key_check")
        except EvidenceKeyError:
            raise EvidenceKeyError(
                f"evidence store {self.path} was written with key id "
                f"{bytes(stored_id[0]).decode()}; the key given has id {self._cipher.key_id}"
            ) from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def record(self, stamp_ns: int, unit_id: str, items: list[EvidenceItem]) -> int:
        """Add items to a unit (created on first use) in one transaction; returns bytes stored."""
        for item in items:
            if item.kind not in KINDS:
                raise ValueError(f"unknown evidence kind {item.kind!r}")
        rows = [
            (stamp_ns, it.kind, it.media_type, self._cipher.seal(it.data, _aad(stamp_ns, it.kind)))
            for it in items
        ]
        size = sum(len(r[3]) for r in rows)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    "INSERT OR IGNORE INTO units (stamp_ns, unit_id, recorded_ns) VALUES (?, ?, ?)",
                    (stamp_ns, unit_id, time.time_ns()),
                )
                self._conn.executemany(
                    "INSERT INTO items (stamp_ns, kind, media_type, blob) VALUES (?, ?, ?, ?)", rows
                )
                self._conn.execute(
                    "UPDATE units SET bytes = bytes + ? WHERE stamp_ns = ?", (size, stamp_ns)
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return size

    def items(self, stamp_ns: int) -> list[EvidenceItem]:
        """Every item of a unit, decrypted, in the order recorded."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT kind, media_type, blob FROM items WHERE stamp_ns = ? ORDER BY id",
                (stamp_ns,),
            ).fetchall()
        return [
            EvidenceItem(kind, media, self._cipher.open(bytes(blob), _aad(stamp_ns, kind)))
            for kind, media, blob in rows
        ]

    def units(self) -> list[tuple[int, str]]:
        """(stamp_ns, unit_id) of every stored unit, oldest first."""
        with self._lock:
            return self._conn.execute(
                "SELECT stamp_ns, unit_id FROM units ORDER BY recorded_ns, stamp_ns"
            ).fetchall()

    def stored_bytes(self) -> int:
        with self._lock:
            return int(
                self._conn.execute("SELECT COALESCE(SUM(bytes), 0) FROM units").fetchone()[0]
            )

    def mark_synced(self, stamps: list[int]) -> None:
        """Units the backend has a copy of; evicting them is routine, not a loss."""
        with self._lock:
            self._conn.executemany(
                "UPDATE units SET synced = 1 WHERE stamp_ns = ?", [(s,) for s in stamps]
            )

    def evict(self, now_ns: int | None = None) -> EvictionReport:
        """Delete whole units, oldest first, until both the age and the size bound hold."""
        now_ns = time.time_ns() if now_ns is None else now_ns
        cutoff = now_ns - int(self.max_age_s * 1e9)
        with self._lock:
            rows = self._conn.execute(
                "SELECT stamp_ns, recorded_ns, bytes, synced FROM units "
                "ORDER BY recorded_ns, stamp_ns"
            ).fetchall()
            total = sum(r[2] for r in rows)
            victims = []
            for stamp_ns, recorded_ns, size, synced in rows:
                if recorded_ns >= cutoff and total <= self.max_bytes:
                    break
                victims.append((stamp_ns, size, synced))
                total -= size
            if not victims:
                return EvictionReport()
            self._conn.execute("BEGIN IMMEDIATE")
            stamps = [(v[0],) for v in victims]
            self._conn.executemany("DELETE FROM items WHERE stamp_ns = ?", stamps)
            self._conn.executemany("DELETE FROM units WHERE stamp_ns = ?", stamps)
            self._conn.execute("COMMIT")
        return EvictionReport(
            units=len(victims),
            bytes=sum(v[1] for v in victims),
            unsynced_units=sum(1 for v in victims if not v[2]),
        )
