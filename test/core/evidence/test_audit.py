"""Audit trail: chain integrity, tamper detection (edit, removal, truncation), many writers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inspection_nodes.core.evidence.audit import GENESIS_HASH, AuditLog


def _filled(tmp_path: Path, n: int = 5) -> AuditLog:
    log = AuditLog(tmp_path / "audit.log")
    for i in range(n):
        log.append("verdict", {"unit_id": f"u{i:03d}", "decision": "PASS"}, actor="gate")
    return log


def _rewrite(log: AuditLog, edit) -> None:
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join(edit(lines)) + "\n")


def test_append_returns_chained_entries(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.log")
    first = log.append("threshold_change", {"name": "score_threshold", "old": 3.0, "new": 3.5})
    second = log.append("disposition", {"unit_id": "u1"}, actor="op7")
    assert (first["seq"], second["seq"]) == (0, 1)
    assert first["prev_hash"] == GENESIS_HASH
    assert second["prev_hash"] == first["hash"]
    assert log.verify().ok and log.verify().entries == 2


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown audit kind"):
        AuditLog(tmp_path / "a.log").append("coffee", {})


@pytest.mark.parametrize(
    ("name", "edit", "bad_seq", "reason"),
    [
        (
            "edited payload",
            lambda ls: [ls[0], ls[1], ls[2].replace("PASS", "FAIL"), *ls[3:]],
            2,
            "edited",
        ),
        ("removed middle", lambda ls: ls[:2] + ls[3:], 2, "removed"),
        ("removed last", lambda ls: ls[:-1], 4, "removed from the end"),
        ("reordered", lambda ls: [ls[0], ls[2], ls[1], *ls[3:]], 1, "removed or reordered"),
    ],
)
def test_tampering_is_detected(tmp_path: Path, name, edit, bad_seq, reason) -> None:
    log = _filled(tmp_path)
    _rewrite(log, edit)
    result = log.verify()
    assert not result.ok, name
    assert result.first_bad_seq == bad_seq
    assert reason in result.reason


def test_rehashed_edit_still_breaks_the_chain(tmp_path: Path) -> None:
    """An editor who recomputes the edited entry's hash breaks the next entry's prev_hash."""
    from inspection_nodes.core.evidence.audit import entry_hash

    log = _filled(tmp_path)

    def edit(lines: list[str]) -> list[str]:
        entry = json.loads(lines[1])
        entry["payload"]["decision"] = "FAIL"
        entry["hash"] = entry_hash(entry)
        return [lines[0], json.dumps(entry), *lines[2:]]

    _rewrite(log, edit)
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 2


def test_torn_tail_is_reported_then_cut_by_next_append(tmp_path: Path) -> None:
    log = _filled(tmp_path, 3)
    with log.path.open("ab") as f:
        f.write(b'{"seq":3,"kind":"ver')
    assert "torn" in log.verify().reason
    entry = log.append("verdict", {"unit_id": "u9"})
    assert entry["seq"] == 3
    assert log.verify().ok


_WORKER = """
import sys
from pathlib import Path
from inspection_nodes.core.evidence.audit import AuditLog
log = AuditLog(Path(sys.argv[1]))
for i in range(40):
    log.append("verdict", {"worker": sys.argv[2], "i": i})
"""


def test_concurrent_processes_keep_one_chain(tmp_path: Path) -> None:
    path = str(tmp_path / "audit.log")
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, path, str(w)]) for w in range(3)]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    result = AuditLog(Path(path)).verify()
    assert result.ok, result.reason
    assert result.entries == 120
