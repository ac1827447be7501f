"""The embedded cluster: created once, restarted on the same port with its data, run by an
unprivileged user when we are root, and refused where that user cannot reach the directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from inspection_backend.services.postgres import EmbeddedPostgres, postgres_available

pytestmark = pytest.mark.skipif(not postgres_available(), reason="PostgreSQL 15 not installed")


@pytest.fixture
def root():
    path = Path(tempfile.mkdtemp(prefix="inspection-pg-unit-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_data_survive_a_restart_on_the_same_port(root):
    pg = EmbeddedPostgres(root / "data")
    try:
        pg.start()
        engine = sa.create_engine(pg.url())
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE kept (x int)"))
            conn.execute(sa.text("INSERT INTO kept VALUES (42)"))
        engine.dispose()
        pg.stop()
        assert not pg.running()
        again = EmbeddedPostgres(root / "data")
        assert again.port == pg.port
        again.start()
        engine = sa.create_engine(again.url())
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT x FROM kept")).scalar() == 42
            owner = conn.execute(sa.text("SELECT current_setting('listen_addresses')")).scalar()
        engine.dispose()
        assert owner == "127.0.0.1"
        if os.geteuid() == 0:
            assert (root / "data").stat().st_uid != 0
    finally:
        EmbeddedPostgres(root / "data").destroy()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the cluster to another user")
def test_unreachable_directory_is_refused_with_the_reason(tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    with pytest.raises(PermissionError, match="not searchable by others"):
        EmbeddedPostgres(closed / "data").start()


def test_database_names_are_checked(root):
    pg = EmbeddedPostgres(root / "data")
    with pytest.raises(ValueError, match="letters, digits"):
        pg.create_database("x; DROP DATABASE postgres")
