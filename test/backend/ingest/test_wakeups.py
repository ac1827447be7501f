"""Dispatcher wake-ups across processes: NOTIFY from ingest, LISTEN in the dispatcher's."""

from __future__ import annotations

from helpers.backend_services import wait_until

from inspection_backend.ingest.wakeups import DispatchListener, notify_dispatch


def test_critical_ids_and_plain_wakeups_arrive(engine):
    critical: list[list[str]] = []
    wakes: list[int] = []
    listener = DispatchListener(engine, critical.append, lambda: wakes.append(1))
    listener.start()
    try:
        wait_until(lambda: _listening(engine), 10)
        notify_dispatch(engine, ["cell-1:verdict:u1:5", "cell-2:verdict:u9:7"])
        notify_dispatch(engine, [])
        long_ids = [f"cell-1:verdict:u{i}:{'9' * 40}" for i in range(400)]  # > one payload
        notify_dispatch(engine, long_ids)
        wait_until(lambda: wakes and sum(len(c) for c in critical) == 402, 10)
        assert critical[0] == ["cell-1:verdict:u1:5", "cell-2:verdict:u9:7"]
        assert [i for chunk in critical[1:] for i in chunk] == long_ids
    finally:
        listener.stop()


def _listening(engine) -> bool:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return bool(
            conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")
            ).scalar()
        )
