"""`inspection keygen`: a private key file, written once."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import run_inspection


def test_keygen_writes_a_private_key_once(tmp_path: Path) -> None:
    out = tmp_path / "keys" / "evidence.key"
    first = run_inspection("keygen", "--out", str(out))
    assert first.returncode == 0 and (out.stat().st_mode & 0o777) == 0o600
    again = run_inspection("keygen", "--out", str(out))
    assert again.returncode == 1 and "not replaced" in again.stdout
