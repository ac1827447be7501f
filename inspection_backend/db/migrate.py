"""Schema migrations (alembic, versioned in `db/migrations/versions/`), applied at start.

Two processes starting together on one database would race on the same DDL; a PostgreSQL
advisory lock held for the upgrade makes the second wait and then find nothing to do.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 0x1E5EC7  # any constant shared by every backend process


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` under an advisory lock."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
        try:
            config = alembic_config(engine.url.render_as_string(hide_password=False))
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.commit()
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
            conn.commit()


def current_revision(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
