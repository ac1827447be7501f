"""`inspection keygen`: a private key file, written once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _inspection(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "inspection_nodes.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_keygen_writes_a_private_key_once(tmp_path: Path) -> None:
    out = tmp_path / "keys" / "evidence.key"
    first = _inspection("keygen", "--out", str(out))
    assert first.returncode == 0 and (out.stat().st_mode & 0o777) == 0o600
    again = _inspection("keygen", "--out", str(out))
    assert again.returncode == 1 and "not replaced" in again.stdout
