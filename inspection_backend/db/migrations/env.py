"""alembic environment: migrations run on the connection `db.migrate` hands in (or the URL)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from inspection_backend.db.tables import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run_on(conn)
    engine.dispose()


def _run_on(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run()
