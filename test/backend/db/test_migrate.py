"""Migrations: the migrated schema is exactly the metadata, upgrades are idempotent, and the
audit log refuses every change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from inspection_backend.db import audit, migrate
from inspection_backend.db.audit import AuditEntry
from inspection_backend.db.tables import metadata


def test_migrated_schema_equals_the_metadata(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert migrate.current_revision(engine) == "0001"


def test_upgrade_twice_is_a_no_op(engine):
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == "0001"


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"],
)
def test_audit_log_is_append_only(engine, statement):
    with engine.begin() as conn:
        audit.record(conn, AuditEntry("ann", "thing.done", "thing", "1", "because"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text(statement))
    with engine.connect() as conn:
        assert [r.actor for r in audit.history(conn, "thing", "1")] == ["ann"]
