"""Waiting for a person inside a workflow, across shifts and restarts.

People act on the page; the page writes their decision to the database (with its audit row)
and then sends the waiting workflow a message on a topic. The workflow does not trust the
message alone: it re-reads the state with a checkpointed step, so a message lost between the
page's commit and its send (a crash just then) only delays the workflow until its next check.
Every wait is a `DBOS.recv` with an explicit timeout (its default is 60 s) of at most
`poll_s`, and the clock is read inside the recorded step, so a workflow replayed after a crash
takes exactly the same path through its loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from dbos import DBOS

from inspection_backend.workflows.runtime import step, until_database_answers

T = TypeVar("T")
POLL_S = 600.0


def _checked(check: Callable[[], T | None]) -> tuple[T | None, float]:
    return until_database_answers(check), time.time()


def wait_for(
    topic: str,
    name: str,
    check: Callable[[], T | None],
    deadline_epoch: float | None = None,
    poll_s: float = POLL_S,
) -> T | None:
    """Return check()'s first non-None value; None when the deadline passes first."""
    while True:
        value, now = step(name, _checked, check)
        if value is not None:
            return value
        if deadline_epoch is not None and now >= deadline_epoch:
            return None
        timeout = poll_s if deadline_epoch is None else min(poll_s, deadline_epoch - now)
        DBOS.recv(topic, timeout_seconds=max(timeout, 0.05))
