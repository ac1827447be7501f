"""Executor watch: a silent executor is recovered once, by one live process."""

from __future__ import annotations

import sqlalchemy as sa

from inspection_backend.workflows.executors import ExecutorWatch


def test_dead_executor_is_taken_over_once(engine):
    recovered: list[list[str]] = []
    alive = ExecutorWatch(engine, "alive", lambda ids: recovered.append(ids) or 3, dead_after_s=5)
    dead = ExecutorWatch(engine, "dead", lambda ids: 0, dead_after_s=5)
    dead.beat()
    alive.beat()
    assert alive.take_over_dead() == []  # it beat just now
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE executors SET heartbeat_at = now() - interval '1 minute' "
                "WHERE executor_id = 'dead'"
            )
        )
    assert alive.take_over_dead() == ["dead"]
    assert alive.take_over_dead() == []
    assert recovered == [["dead"]] and alive.recovered == {"dead": 3}
    dead.beat()  # it came back: it beats again and is not recovered
    assert alive.take_over_dead() == []
