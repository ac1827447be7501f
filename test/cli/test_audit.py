"""`inspection audit verify` as a user runs it (exit codes, messages)."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import run_inspection

from inspection_nodes.core.evidence.audit import AuditLog


def test_verify_passes_then_detects_an_edit(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.log")
    for value in (3.0, 3.5, 4.0):
        log.append("threshold_change", {"name": "score_threshold", "new": value}, actor="qe")
    ok = run_inspection("audit", "verify", str(log.path))
    assert ok.returncode == 0 and "OK: 3 entries" in ok.stdout
    log.path.write_text(log.path.read_text().replace('"new":3.5', '"new":9.9'))
    bad = run_inspection("audit", "verify", str(log.path))
    assert bad.returncode == 1
    assert "TAMPERED at seq 1" in bad.stdout and "edited" in bad.stdout


def test_verify_detects_a_removed_entry(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.log")
    for i in range(3):
        log.append("verdict", {"unit_id": f"u{i}"})
    lines = log.path.read_text().splitlines(keepends=True)
    log.path.write_text(lines[0] + lines[2])
    bad = run_inspection("audit", "verify", str(log.path))
    assert bad.returncode == 1 and "removed" in bad.stdout
