"""Ingest against a real broker and a real database, in process: batches written and then
acknowledged; a database error keeps the batch (nothing acknowledged, nothing lost)."""

from __future__ import annotations

import time

import sqlalchemy as sa
from helpers.backend_data import parser
from helpers.backend_services import wait_until

from inspection_backend.ingest.consumer import IngestConsumer, topics
from inspection_backend.settings import MqttSettings
from inspection_backend.simulator import messages as m
from inspection_backend.simulator.cell import SimulatedCell


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


def consumer(broker, engine, seen: list) -> IngestConsumer:
    return IngestConsumer(
        MqttSettings("127.0.0.1", broker.port),
        "test-ingest",
        parser(),
        engine,
        on_committed=seen.append,
        batch_size=50,
        batch_ms=10,
    )


def test_topics_cover_every_kind_and_shared_groups():
    assert "inspection/+/verdict" in topics() and "plant/+/process" in topics()
    assert all(t.startswith("$share/g/") for t in topics("g"))
    assert not any(t.endswith("/cmd") for t in topics())


def test_messages_are_written_in_batches_and_bad_ones_dead_lettered(broker, engine):
    seen: list = []
    ingest = consumer(broker, engine, seen)
    ingest.start()
    cell = SimulatedCell(MqttSettings("127.0.0.1", broker.port), ["cell-1"], "").start()
    try:
        wait_until(lambda: ingest.stats.subscribed, 10)
        for i in range(200):
            cell.publish_cell(
                m.verdict("cell-1", f"u{i}", i + 1, "FAIL" if i % 10 == 0 else "PASS", 3.0, 2.0)
            )
        cell.publish("inspection/cell-1/verdict", b"{")
        wait_until(
            lambda: count(engine, "verdicts") == 200 and count(engine, "dead_letters") == 1, 30
        )
        assert ingest.stats.inserted == 200 and ingest.stats.dead_letters == 1
        assert 1 < ingest.stats.batches < 200
        assert sum(len(o.new_fails) for o in seen) == 20
    finally:
        cell.stop()
        ingest.stop()


def test_database_error_keeps_the_batch_until_it_is_written(broker, engine):
    ingest = consumer(broker, engine, [])
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE verdicts RENAME TO verdicts_away"))
    ingest.start()
    cell = SimulatedCell(MqttSettings("127.0.0.1", broker.port), ["cell-1"], "").start()
    try:
        wait_until(lambda: ingest.stats.subscribed, 10)
        for i in range(20):
            cell.publish_cell(m.verdict("cell-1", f"e{i}", i + 1, "PASS", 1.0, 2.0))
        wait_until(lambda: ingest.stats.db_errors >= 2, 30)
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE verdicts_away RENAME TO verdicts"))
        wait_until(lambda: count(engine, "verdicts") == 20, 30)
        time.sleep(0.5)
        assert count(engine, "verdicts") == 20 and count(engine, "dead_letters") == 0
        assert "write failed" in ingest.stats.last_error
    finally:
        cell.stop()
        ingest.stop()


def test_a_message_the_database_refuses_is_dead_lettered_alone(broker, engine):
    ingest = consumer(broker, engine, [])
    ingest.start()
    cell = SimulatedCell(MqttSettings("127.0.0.1", broker.port), ["cell-1"], "").start()
    try:
        wait_until(lambda: ingest.stats.subscribed, 10)
        for i in range(5):
            unit = "nul\u0000unit" if i == 2 else f"ok{i}"  # JSON-valid, not storable as text
            cell.publish_cell(m.verdict("cell-1", unit, i + 1, "PASS", 1.0, 2.0))
        wait_until(
            lambda: count(engine, "verdicts") == 4 and count(engine, "dead_letters") == 1, 30
        )
        with engine.connect() as conn:
            reason = conn.execute(sa.text("SELECT reason FROM dead_letters")).scalar()
        assert reason == "db_refused"
    finally:
        cell.stop()
        ingest.stop()
