"""Tamper-evident audit trail: an append-only JSON-lines file whose entries form a hash chain.

Every verdict, threshold change, model deployment, disposition and backend command is appended
here. Each entry carries the SHA-256 of the previous entry, so editing or removing an entry breaks
the chain at that point. Removing entries from the *end* leaves a valid shorter chain, so each
append also rewrites a small head file (`<log>.head`: last seq and hash); `verify()` checks that
the log still holds the entry the head names.

Several processes (gate, recorder, bridge) append to the same file: an exclusive `flock` on the
log serialises them, and every entry is fsync'd before `append()` returns. A kill -9 mid-write can
leave at most one torn last line with no newline; it was never acknowledged to anyone, so the next
append cuts it off (and `verify()` reports it until then).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS_HASH = "0" * 64
KINDS = (
    "verdict",
    "threshold_change",
    "model_deployment",
    "disposition",
    "command",
    "evidence_eviction",
)
_TAIL_CHUNK = 65536


def entry_hash(entry: dict[str, Any]) -> str:
    """Hash over every field but `hash`, in a canonical JSON form (sorted keys, no spaces)."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of a chain check: `ok`, how many entries were read, the first bad seq and why."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""


class AuditLog:
    """Append-only hash-chained log at `path`, safe for concurrent appends from many processes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + ".head")
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, kind: str, payload: dict[str, Any], actor: str = "") -> dict[str, Any]:
        """Append one entry and return it (with seq, time, prev_hash and hash) once it is on disk.

        Raises ValueError for an unknown kind or a payload that is not JSON-serialisable, OSError
        when the disk refuses the write: callers in ROS callbacks catch and count these.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown audit kind {kind!r}; known: {', '.join(KINDS)}")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last = _last_entry(fd)
            entry: dict[str, Any] = {
                "seq": 0 if last is None else int(last["seq"]) + 1,
                "time": time.time(),
                "kind": kind,
                "actor": actor,
                "payload": payload,
                "prev_hash": GENESIS_HASH if last is None else last["hash"],
            }
            entry["hash"] = entry_hash(entry)
            line = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
            os.write(fd, line.encode())
            os.fsync(fd)
            self._write_head(entry)
            return entry
        finally:
            os.close(fd)  # closing releases the flock

    def _write_head(self, entry: dict[str, Any]) -> None:
        tmp = self.head_path.with_name(self.head_path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"seq": entry["seq"], "hash": entry["hash"]}))
        os.replace(tmp, self.head_path)

    def entries(self) -> list[dict[str, Any]]:
        """Every complete entry in file order (for review tools; `verify()` checks them)."""
        if not self.path.exists():
            return []
        lines = self.path.read_bytes().split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def verify(self) -> VerifyResult:
        """Walk the chain: seq continuity, each prev_hash, each hash, and the head anchor."""
        if not self.path.exists():
            return VerifyResult(False, 0, None, f"audit log {self.path} does not exist")
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            return VerifyResult(False, 0, None, "torn last line (a crash during an append)")
        prev_hash, expected_seq, count = GENESIS_HASH, 0, 0
        last_hash_by_seq: dict[int, str] = {}
        for lineno, raw in enumerate(data.split(b"\n")[:-1], start=1):
            try:
                entry = json.loads(raw)
                seq = int(entry["seq"])
            except (ValueError, KeyError, TypeError) as exc:
                return VerifyResult(False, count, expected_seq, f"line {lineno}: unreadable: {exc}")
            if seq != expected_seq:
                return VerifyResult(
                    False,
                    count,
                    expected_seq,
                    f"line {lineno}: seq {seq}, expected "
                    f"{expected_seq} (an entry was removed or reordered)",
                )
            if entry.get("prev_hash") != prev_hash:
                return VerifyResult(False, count, seq, f"seq {seq}: prev_hash does not match")
            if entry.get("hash") != entry_hash(entry):
                return VerifyResult(False, count, seq, f"seq {seq}: content was edited")
            prev_hash, expected_seq, count = entry["hash"], seq + 1, count + 1
            last_hash_by_seq[seq] = prev_hash
        return self._verify_head(count, last_hash_by_seq)

    def _verify_head(self, count: int, hashes: dict[int, str]) -> VerifyResult:
        if not self.head_path.exists():
            if count:
                return VerifyResult(False, count, None, "head file missing")
            return VerifyResult(True, 0)
        try:
            head = json.loads(self.head_path.read_text())
            seq, digest = int(head["seq"]), str(head["hash"])
        except (ValueError, KeyError, TypeError) as exc:
            return VerifyResult(False, count, None, f"head file unreadable: {exc}")
        if hashes.get(seq) != digest:
            return VerifyResult(
                False,
                count,
                min(seq, count),
                f"head names seq {seq} but the log has "
                f"{count} entries (entries were removed from the end or rewritten)",
            )
        return VerifyResult(True, count)


def _last_entry(fd: int) -> dict[str, Any] | None:
    """Read the last complete entry; cut off a torn tail left by a crash mid-append."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return None
    start = max(0, size - _TAIL_CHUNK)
    tail = os.pread(fd, size - start, start)
    while start > 0 and tail.count(b"\n") < 2:
        start = max(0, start - _TAIL_CHUNK)
        tail = os.pread(fd, size - start, start)
    if not tail.endswith(b"\n"):
        cut = tail.rfind(b"\n")
        os.ftruncate(fd, start + cut + 1 if cut >= 0 else start)
        tail = tail[: cut + 1] if cut >= 0 else b""
    lines = [line for line in tail.split(b"\n") if line.strip()]
    return json.loads(lines[-1]) if lines else None
