"""Holds open once and are released once, by a person, with audit rows; commands are stored
with their signature and joined to the cell's answers."""

from __future__ import annotations

import sqlalchemy as sa

from inspection_backend.db import audit, holds_store


def test_open_is_idempotent_and_release_happens_once(engine):
    with engine.begin() as conn:
        first = holds_store.open_hold(conn, "unit:c:u", "cell-1", "line-1", "critical")
        again = holds_store.open_hold(conn, "unit:c:u", "cell-1", "line-1", "critical")
    assert first == again == "hold:unit:c:u"
    with engine.begin() as conn:
        assert holds_store.release_hold(conn, first, "erin", "parts quarantined")
        assert not holds_store.release_hold(conn, first, "mallory", "again")
    with engine.connect() as conn:
        hold = holds_store.get_hold(conn, first)
        actions = [(e.actor, e.action) for e in audit.history(conn, "line_hold", first)]
        assert holds_store.active_holds(conn) == []
    assert (hold.state, hold.released_by) == ("released", "erin")
    assert actions == [("system", "hold.opened"), ("erin", "hold.released")]


def test_commands_are_stored_once_and_answers_joined(engine):
    document = {"id": "hold:x", "cell_id": "cell-1", "type": "line_hold", "params": {}}
    with engine.begin() as conn:
        holds_store.record_command(conn, document)
        holds_store.record_command(conn, {**document, "params": {"other": 1}})
        holds_store.mark_published(conn, "hold:x")
        conn.execute(
            sa.text(
                "INSERT INTO command_results (message_id, cell_id, command_id, command_type, "
                "accepted, reason) VALUES ('r1', 'cell-1', 'hold:x', 'line_hold', true, 'ok')"
            )
        )
    with engine.connect() as conn:
        assert holds_store.stored_command(conn, "hold:x") == document
        assert [a.reason for a in holds_store.command_answers(conn, "hold:x")] == ["ok"]
