"""The `inspection-backend` commands as a user runs them (subprocesses)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import sqlalchemy as sa
from helpers.backend_data import store, synced
from helpers.backend_services import REPO

from inspection_backend.db import cases_store
from inspection_backend.simulator import messages as m


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "inspection_backend.cli.main", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_every_command():
    out = run("--help").stdout
    for name in ("serve", "migrate", "users", "keygen", "export-labels", "fakes", "demo", "bench"):
        assert name in out


def test_keygen_writes_a_private_key_once_and_prints_the_public_key(tmp_path):
    first = run("keygen", "--out", str(tmp_path / "k.pem"))
    assert first.returncode == 0, first.stderr
    public = first.stdout.split("trust file: ")[1].strip()
    assert len(base64.b64decode(public)) == 32
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    assert run("keygen", "--out", str(tmp_path / "k.pem")).returncode == 1


def test_migrate_users_and_labels(database_url, engine, tmp_path):
    assert "revision 0001" in run("migrate", "--database-url", database_url).stdout
    env = {"INSPECTION_PASSWORD": "short"}
    refused = run("users", "add", "ann", "--role", "admin", "--database-url", database_url, env=env)
    assert refused.returncode == 1 and "at least 10" in refused.stdout
    env = {"INSPECTION_PASSWORD": "admin-password-1"}
    assert (
        run(
            "users", "add", "ann", "--role", "admin", "--database-url", database_url, env=env
        ).returncode
        == 0
    )
    assert "ann\tadmin\tactive" in run("users", "list", "--database-url", database_url).stdout
    plant = synced(engine)
    store(engine, m.verdict("cell-1", "u1", 5, "FAIL", 2.1, 2.0))
    with engine.begin() as conn:
        cases_store.route_pending(conn, plant)
        conn.execute(sa.text("UPDATE cases SET outcome = 'false_positive', resolved_by = 'ann'"))
    out = tmp_path / "labels.csv"
    assert (
        "wrote 1 labels"
        in run("export-labels", "--out", str(out), "--database-url", database_url).stdout
    )
    assert "unit:cell-1:u1" in out.read_text()
