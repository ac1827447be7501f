"""Options every command that touches the database or broker shares, and the way to reach the
database from a one-shot command (starting the embedded cluster only when it is not running)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from inspection_backend.db import migrate
from inspection_backend.db.engine import make_engine
from inspection_backend.services.postgres import EmbeddedPostgres
from inspection_backend.settings import Settings


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="DATA_DIR (embedded services, key)")
    parser.add_argument("--database-url", help="DATABASE_URL (empty: embedded PostgreSQL)")
    parser.add_argument("--plant-config", type=Path, help="PLANT_CONFIG")


def settings_from(args: argparse.Namespace, **extra: object) -> Settings:
    return Settings.from_env(
        data_dir=getattr(args, "data_dir", None),
        database_url=getattr(args, "database_url", None),
        plant_config=getattr(args, "plant_config", None),
        **extra,
    )


@contextmanager
def database(settings: Settings) -> Iterator[sa.Engine]:
    """A migrated engine on DATABASE_URL, or on the embedded cluster (started for the command
    and stopped again, unless a running `serve` already had it up)."""
    postgres = None
    url = settings.database_url
    if not url:
        postgres = EmbeddedPostgres(
            settings.data_dir / "postgres", settings.pg_port or None, run_as=settings.pg_run_as
        )
        was_running = postgres.running()
        postgres.start()
        url = postgres.url()
        if was_running:
            postgres = None
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        if postgres is not None:
            postgres.stop()
