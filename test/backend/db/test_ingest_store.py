"""One ingest batch: rows by type, duplicates dropped by the message id, dead letters kept."""

from __future__ import annotations

import sqlalchemy as sa

from inspection_backend.core.messages import MessageParser, Sources
from inspection_backend.db.ingest_store import write_batch
from inspection_backend.schemas import load_checks
from inspection_backend.simulator import messages as m

PARSER = MessageParser(load_checks(), Sources(frozenset({"cell-1"}), frozenset({"line-1"})))


def parsed(*items):
    accepted, rejected = [], []
    for topic, message in items:
        payload = message if isinstance(message, bytes) else m.encode(message)
        result = PARSER.parse(topic, payload)
        (rejected if hasattr(result, "reason") else accepted).append(result)
    return accepted, rejected


def test_batch_writes_every_kind_and_reports_new_fails(engine):
    fail = m.verdict(
        "cell-1", "u1", 1_700_000_000_123_456_789, "FAIL", 3.0, 2.0,
        detections=[{"class_name": "dent", "confidence": 0.7}],
        anomaly={"area_px": 10, "area_ratio": 0.01, "regions": 1},
    )  # fmt: skip
    items = [
        ("inspection/cell-1/verdict", fail),
        ("inspection/cell-1/verdict", m.verdict("cell-1", "u2", 5, "PASS", 1.0, 2.0)),
        ("inspection/cell-1/stability", m.stability("cell-1", 5, "WATCH", 1.2)),
        ("inspection/cell-1/evidence", m.evidence("cell-1", "u1", "image", b"png!", "image/png")),
        ("plant/line-1/context", m.context("line-1", "cell-1", "u1", 5, supplier_batch="B7")),
        ("plant/line-1/process", m.process("line-1", "press", 5, {"temp_c": 200.5})),
        ("inspection/cell-1/verdict", b"not json"),
    ]
    accepted, rejected = parsed(*items)
    with engine.begin() as conn:
        outcome = write_batch(conn, accepted, rejected)
    assert (outcome.inserted, outcome.duplicates, outcome.dead_letters) == (6, 0, 1)
    assert [r.unit_id for r in outcome.new_fails] == ["u1"]
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM verdicts WHERE unit_id = 'u1'")).one()
        assert row.detections == [{"class_name": "dent", "confidence": 0.7, "box": None}]
        assert row.regions == 1 and row.reasons == [] and not row.dispatched
        assert row.stamp.microsecond == 123456  # ns kept to the microsecond
        data = conn.execute(sa.text("SELECT data FROM evidence")).scalar()
        assert bytes(data) == b"png!"
        values = conn.execute(sa.text("SELECT parameter_values FROM process_samples")).scalar()
        assert values == {"temp_c": 200.5}
        assert conn.execute(sa.text("SELECT reason FROM dead_letters")).scalar() == "not_json"


def test_duplicates_within_and_across_batches_are_dropped(engine):
    message = m.verdict("cell-1", "u9", 5, "FAIL", 3.0, 2.0)
    accepted, rejected = parsed(*[("inspection/cell-1/verdict", message)] * 3)
    with engine.begin() as conn:
        first = write_batch(conn, accepted, rejected)
    with engine.begin() as conn:
        second = write_batch(conn, accepted[:1], [])
    assert (first.inserted, first.duplicates, len(first.new_fails)) == (1, 2, 1)
    assert (second.inserted, second.duplicates, second.new_fails) == (0, 1, [])
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM verdicts")).scalar() == 1


def test_a_failed_batch_leaves_nothing(engine):
    accepted, _ = parsed(
        ("inspection/cell-1/verdict", m.verdict("cell-1", "u", 5, "PASS", 1.0, 2.0))
    )
    try:
        with engine.begin() as conn:
            write_batch(conn, accepted, [])
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM verdicts")).scalar() == 0
