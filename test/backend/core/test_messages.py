"""Parsing what arrives over MQTT against the real schemas: typed records, or a refusal with a
reason for every kind of bad payload (never an exception)."""

from __future__ import annotations

import base64
import json

import pytest

from inspection_backend.core.messages import (
    Accepted,
    EvidenceRecord,
    Kind,
    MessageParser,
    Rejected,
    RejectReason,
    Sources,
    VerdictRecord,
)
from inspection_backend.schemas import load_checks
from inspection_backend.simulator import messages as m

SOURCES = Sources(frozenset({"cell-1", "cell-2"}), frozenset({"line-1"}))


@pytest.fixture(scope="module")
def parser() -> MessageParser:
    return MessageParser(load_checks(), SOURCES, max_bytes=64 * 1024, evidence_max_bytes=4096)


def parse(parser, topic, message):
    payload = message if isinstance(message, bytes) else m.encode(message)
    return parser.parse(topic, payload)


def test_verdict_of_today_without_the_optional_fields(parser):
    result = parse(
        parser, "inspection/cell-1/verdict", m.verdict("cell-1", "u1", 5, "FAIL", 3.0, 2.0)
    )
    assert isinstance(result, Accepted) and result.kind is Kind.VERDICT
    record = result.record
    assert isinstance(record, VerdictRecord)
    assert (record.cell_id, record.unit_id, record.failed) == ("cell-1", "u1", True)
    assert record.anomaly is None and record.detections is None and record.evidence is None


def test_verdict_with_extraction_and_evidence(parser):
    msg = m.verdict(
        "cell-1",
        "u2",
        5,
        "FAIL",
        3.0,
        2.0,
        anomaly={"area_px": 120, "area_ratio": 0.0024, "regions": 2, "peak_x": 10, "peak_y": 20},
        detections=[{"class_name": "crack", "confidence": 0.9, "box": [1, 2, 3, 4]}],
        evidence={"ref": "cell-1/ev/9", "image_sha256": "a" * 64},
    )
    record = parse(parser, "inspection/cell-1/verdict", msg).record
    assert record.anomaly.regions == 2 and record.anomaly.peak_y == 20
    assert record.detections[0].class_name == "crack" and record.detections[0].box == (1, 2, 3, 4)
    assert record.evidence.image_sha256 == "a" * 64 and record.evidence.heatmap_sha256 is None


def test_every_cell_type_and_plant_type_parses(parser):
    cases = [
        ("inspection/cell-1/stability", m.stability("cell-1", 5, "WATCH", 1.3), Kind.STABILITY),
        (
            "inspection/cell-1/command_result",
            m.command_result("cell-1", "hold:x", "line_hold", True, "ok"),
            Kind.COMMAND_RESULT,
        ),
        ("plant/line-1/context", m.context("line-1", "cell-1", "u1", 5, sku="S1"), Kind.CONTEXT),
        (
            "plant/line-1/process",
            m.process("line-1", "press-1", 5, {"temp_c": 210.5}),
            Kind.PROCESS,
        ),
    ]
    for topic, message, kind in cases:
        result = parse(parser, topic, message)
        assert isinstance(result, Accepted) and result.kind is kind, (topic, result)


def test_evidence_is_checked_against_its_hash(parser):
    good = m.evidence("cell-1", "u1", "image", b"\x89PNG fake", "image/png")
    record = parse(parser, "inspection/cell-1/evidence", good).record
    assert isinstance(record, EvidenceRecord) and record.data == b"\x89PNG fake"
    bad = m.evidence("cell-1", "u1", "image", b"\x89PNG fake", "image/png")
    bad["body"]["data_b64"] = base64.b64encode(b"something else").decode()
    assert parse(parser, "inspection/cell-1/evidence", bad).reason is RejectReason.EVIDENCE_HASH


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("inspection/cell-1/verdict", b"\xff\xfe", RejectReason.NOT_JSON),
        ("inspection/cell-1/verdict", b'{"id": ', RejectReason.NOT_JSON),
        ("inspection/cell-1/verdict", b"[]", RejectReason.SCHEMA),
        ("inspection/cell-1/verdict", b'{"schema": "inspection/verdict/1"}', RejectReason.SCHEMA),
        ("inspection/cell-1/telemetry", b"{}", RejectReason.UNKNOWN_TOPIC),
        ("inspection/cell-1/cmd", b"{}", RejectReason.UNKNOWN_TOPIC),
        ("plant/line-1/verdict", b"{}", RejectReason.UNKNOWN_TOPIC),
        ("inspection//verdict", b"{}", RejectReason.UNKNOWN_TOPIC),
        ("inspection/cell-1/verdict", b" " * (64 * 1024 + 1), RejectReason.OVERSIZED),
    ],
)
def test_bad_payloads_are_refused_with_a_reason(parser, topic, payload, reason):
    result = parser.parse(topic, payload)
    assert isinstance(result, Rejected) and result.reason is reason
    assert result.detail and result.payload == payload


def test_schema_errors_name_the_field(parser):
    msg = m.verdict("cell-1", "u1", 5, "MAYBE", 3.0, 2.0)
    result = parse(parser, "inspection/cell-1/verdict", msg)
    assert result.reason is RejectReason.SCHEMA and "decision" in result.detail
    assert result.message_id == msg["id"]


def test_a_cell_publishing_for_another_cell_is_refused(parser):
    msg = m.verdict("cell-1", "u1", 5, "PASS", 1.0, 2.0)
    result = parse(parser, "inspection/cell-2/verdict", msg)
    assert result.reason is RejectReason.FOREIGN_TOPIC and "cell-1" in result.detail


def test_unknown_cells_and_lines_are_refused(parser):
    assert (
        parse(
            parser, "inspection/cell-9/verdict", m.verdict("cell-9", "u", 5, "PASS", 1.0, 2.0)
        ).reason
        is RejectReason.UNKNOWN_SOURCE
    )
    assert (
        parse(parser, "plant/line-9/process", m.process("line-9", "p", 5, {"t": 1.0})).reason
        is RejectReason.UNKNOWN_SOURCE
    )
    assert (
        parse(parser, "plant/line-1/context", m.context("line-1", "cell-9", "u", 5)).reason
        is RejectReason.UNKNOWN_SOURCE
    )


def test_evidence_has_its_own_larger_limit(parser):
    msg = m.evidence("cell-1", "u1", "image", b"x" * 5000, "image/png")
    assert parse(parser, "inspection/cell-1/evidence", msg).reason is RejectReason.OVERSIZED


def test_parser_needs_a_check_for_every_kind():
    with pytest.raises(ValueError, match="no schema check"):
        MessageParser({Kind.VERDICT: lambda _doc: None}, SOURCES)


def test_the_cells_current_payloads_stay_valid():
    """The optional fields added to the cell's verdict schema keep today's payload valid and
    refuse malformed extras."""
    check = load_checks()[Kind.VERDICT]
    base = m.verdict("cell-1", "u1", 5, "PASS", 1.0, 2.0)
    assert check(base) is None
    bad = json.loads(json.dumps(base))
    bad["body"]["anomaly"] = {"area_px": 3}
    assert "area_ratio" in check(bad)
