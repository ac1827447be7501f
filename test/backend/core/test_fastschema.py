"""The fast schema predicate agrees with jsonschema (the oracle) on every message schema, for
valid messages and for thousands of mutated ones."""

from __future__ import annotations

import copy
import random

import jsonschema
import pytest

from inspection_backend.cell_contract import cell_schema
from inspection_backend.core.fastschema import Unsupported, compile_predicate
from inspection_backend.schemas import backend_schema
from inspection_backend.simulator import messages as m

SAMPLES = {
    "verdict": lambda: m.verdict(
        "cell-1", "u1", 5, "FAIL", 3.0, 2.0,
        anomaly={"area_px": 3, "area_ratio": 0.1, "regions": 1, "peak_x": 2, "peak_y": 3},
        detections=[{"class_name": "crack", "confidence": 0.5, "box": [1, 2, 3, 4]}],
        evidence={"image_sha256": "a" * 64},
    ),
    "stability": lambda: m.stability("cell-1", 5, "OK", 0.2),
    "command_result": lambda: m.command_result("cell-1", "c", "line_hold", True, "ok"),
    "actuator_event": lambda: {
        "schema": "inspection/actuator_event/1", "id": "x", "type": "actuator_event",
        "cell_id": "cell-1",
        "body": {"unit_id": "u", "stamp_ns": 1, "outcome": "FIRED", "backend": "modbus",
                 "scheduled_delay_ms": 1.0, "timing_error_ms": None, "pulse_width_ms": 5,
                 "detail": ""},
    },
    "evidence": lambda: m.evidence("cell-1", "u", "image", b"png", "image/png"),
    "context": lambda: m.context("line-1", "cell-1", "u", 5, sku="S", shift="A"),
    "process": lambda: m.process("line-1", "p", 5, {"temp_c": 1.5}),
    "label": lambda: {
        "schema": "plant/label/1", "id": "l", "type": "label", "line_id": "line-1",
        "body": {"cell_id": "c", "unit_id": "u", "inspector": "i", "category": "dent",
                 "stamp_ns": 1},
    },
}  # fmt: skip
WEIRD = [None, True, False, 0, -1, 1.5, 2**40, "", "x" * 300, "Q", [], [1], {}, {"k": 1}, 1.0]


def _schema(name: str) -> dict:
    own = {"evidence", "context", "process", "label"}
    return backend_schema(name) if name in own else cell_schema(name)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


def _mutate(doc, rng: random.Random):
    doc = copy.deepcopy(doc)
    path = rng.choice([p for p in _paths(doc) if p])
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    action = rng.random()
    if action < 0.2 and isinstance(parent, dict):
        del parent[path[-1]]
    elif action < 0.3 and isinstance(parent, dict):
        parent["unexpected"] = rng.choice(WEIRD)
    else:
        parent[path[-1]] = rng.choice(WEIRD)
    return doc


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_agrees_with_jsonschema(name):
    schema = _schema(name)
    fast = compile_predicate(schema)
    oracle = jsonschema.validators.validator_for(schema)(schema)
    sample = SAMPLES[name]()
    assert fast(sample) and oracle.is_valid(sample)
    rng = random.Random(name)
    disagreements = []
    for _ in range(1500):
        doc = _mutate(sample, rng)
        if fast(doc) != oracle.is_valid(doc):
            disagreements.append(doc)
    assert not disagreements, disagreements[:3]


def test_unsupported_keywords_are_refused():
    with pytest.raises(Unsupported, match="allOf"):
        compile_predicate(cell_schema("command"))


def test_json_equality_rules():
    assert not compile_predicate({"const": 1})(True)
    assert compile_predicate({"const": 1})(1.0)
    assert compile_predicate({"type": "integer"})(2.0)
    assert not compile_predicate({"type": "number"})(False)
