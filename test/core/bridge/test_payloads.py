"""Outbound payloads: envelope, stable ids, topics, NaN as null, and schema-valid bodies."""

import json
import math

import pytest

from inspection_nodes.core.bridge.payloads import (
    OUTBOUND_TYPES,
    PayloadType,
    encode,
    envelope,
    fact_key,
    finite_or_none,
    message_id,
    topic,
    validator,
)


def test_the_same_fact_always_gets_the_same_id_and_topic():
    body = {"unit_id": "u7", "stamp_ns": 42, "decision": "FAIL"}
    first = envelope(PayloadType.VERDICT, "cell-1", fact_key(body), body)
    again = envelope("verdict", "cell-1", fact_key(dict(body)), dict(body))
    assert first == again and first["id"] == message_id("cell-1", "verdict", "u7:42")
    assert first["schema"] == "inspection/verdict/1"
    assert fact_key({"stamp_ns": 5}) == ":5"
    assert topic("inspection", "cell-1", PayloadType.STABILITY) == "inspection/cell-1/stability"


def test_unknown_types_are_refused_and_every_type_has_a_schema():
    with pytest.raises(ValueError, match="unknown payload type"):
        envelope("selfie", "cell-1", "k", {})
    assert set(OUTBOUND_TYPES) == {"verdict", "actuator_event", "stability", "command_result"}
    for kind in PayloadType:
        assert validator(kind).schema["type"] == "object"


def test_json_has_no_nan_and_is_compact_utf8():
    assert finite_or_none(math.nan) is None and finite_or_none(2) == 2.0
    data = encode({"a": "é", "b": [1, 2]})
    assert json.loads(data.decode("utf-8")) == {"a": "é", "b": [1, 2]}
    assert b" " not in data
