"""Steps shared by the workflows: calls to other systems that must not stop a workflow.

A plant system that stays down after every retry does not fail the workflow (a line hold must
still be released by its person, an NCR still signed): the failure is written to the audit
log with its reason and the workflow goes on; the page shows the gap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa

from inspection_backend.db import audit
from inspection_backend.db.audit import AuditEntry
from inspection_backend.workflows.runtime import runtime, step, tx

T = TypeVar("T")


def _attempt(func: Callable[..., T], *args: Any) -> tuple[T | None, str]:
    try:
        return func(*args), ""
    except Exception as exc:  # reported below, never raised into the workflow
        return None, f"{type(exc).__name__}: {exc}"[:500]


def _audit_failure(conn: sa.Connection, name: str, entity: str, entity_id: str, error: str) -> None:
    audit.record(conn, AuditEntry("system", f"{name}.failed", entity, entity_id, error))


def best_effort(
    name: str, entity: str, entity_id: str, func: Callable[..., T], *args: Any
) -> T | None:
    """Run `func(*args)` as a checkpointed step (the adapter retries inside); on final failure
    audit it and return None."""
    value, error = step(name, _attempt, func, *args)
    if error:
        tx(f"{name}_failed", _audit_failure, name, entity, entity_id, error)
    return value


def notify(key: str, event: str, text: str, entity: str, entity_id: str) -> None:
    best_effort(
        f"notify_{event}", entity, entity_id, runtime().systems.notifier.notify, key, event, text
    )
