"""The Gate's unit bookkeeping with its rules: each rule through a unit, precedence, deadlines,
duplicates, views, the fail-safe decision."""

from __future__ import annotations

import math

import pytest

from inspection_nodes.core.gate.gate import MAX_OPEN_UNITS, Gate, failsafe_decision
from inspection_nodes.core.gate.rules import (
    ClassRule,
    Detection,
    DetectionSet,
    GateConfig,
    ScoreResult,
    parse_recipes,
)

MS = 1_000_000
T0 = 1_700_000_000_000_000_000  # a capture stamp (wall clock ns)


def result(score=1.0, thr=2.0, region=50, stamp=T0, uid="u1", version="m1") -> ScoreResult:
    return ScoreResult(stamp, uid, version, score, thr, region, {"scoring": 3.0})


def dets(*items, stamp=T0, uid="u1", version="d1") -> DetectionSet:
    return DetectionSet(stamp, uid, version, tuple(Detection(*i) for i in items))


def decide(config: GateConfig, *inputs, now=T0 + 10 * MS):
    gate = Gate(config)
    out = []
    for item in inputs:
        if isinstance(item, ScoreResult):
            out += gate.add_result(item, now)
        else:
            out += gate.add_detections(item, now)
    assert len(out) == 1, out
    return out[0]


@pytest.mark.parametrize(
    ("config", "inputs", "passed", "reason"),
    [
        (GateConfig(), [result(1.9)], True, None),
        (GateConfig(), [result(2.1)], False, "score: 2.1 > 2"),
        (GateConfig(score_threshold_scale=1.5), [result(2.9)], True, None),
        (GateConfig(score_threshold=1.0), [result(1.5)], False, "score: 1.5 > 1"),
        (GateConfig(min_area_px=100), [result(3.0, region=99)], True, "area: largest region 99"),
        (GateConfig(min_area_px=100), [result(3.0, region=100)], False, "area: largest region 100"),
        (
            GateConfig(min_area_mm2=1.0, mm_per_px=0.1),
            [result(3.0, region=99)],
            True,
            "< 100 px",
        ),
        (GateConfig(), [result(math.nan)], False, "malformed: score=nan"),
        (GateConfig(), [result(1.0, thr=math.inf)], False, "malformed"),
        (GateConfig(), [result(1.0, thr=0.0)], False, "image_threshold=0.0 is not > 0"),
        (GateConfig(expected_model_version="m2"), [result(0.1)], False, "model version 'm1'"),
    ],
)
def test_score_area_and_input_rules(config, inputs, passed, reason):
    d = decide(config, *inputs)
    assert d.passed is passed
    if reason:
        assert any(reason in r for r in d.reasons), d.reasons
    assert d.model_version == "m1"
    assert d.config_version == config.version


@pytest.mark.parametrize(
    ("rules", "found", "passed"),
    [
        ((ClassRule("*", 0.5),), [("scratch", 0.6, 10.0)], False),
        ((ClassRule("*", 0.5),), [("scratch", 0.4, 10.0)], True),
        ((ClassRule("scratch", 0.3, 100.0), ClassRule("*", 0.9)), [("scratch", 0.4, 99.0)], True),
        ((ClassRule("*", 0.9), ClassRule("scratch", 0.3, 100.0)), [("scratch", 0.4, 100.0)], False),
        ((ClassRule("scratch", 0.3),), [("dent", 0.99, 500.0)], True),
        ((ClassRule("*", 0.5),), [], True),
    ],
)
def test_class_rules(rules, found, passed):
    config = GateConfig(require_detections=True, class_rules=rules)
    d = decide(config, result(0.5), dets(*found))
    assert d.passed is passed


def test_unit_waits_for_detections_when_required():
    gate = Gate(GateConfig(require_detections=True))
    assert gate.add_result(result(0.5), T0 + MS) == []
    [d] = gate.add_detections(dets(), T0 + 2 * MS)
    assert d.passed


def test_precedence_fail_safe_before_rules_and_all_reasons_listed():
    config = GateConfig(expected_model_version="m2", min_area_px=10)
    d = decide(config, result(0.1, region=1))
    assert not d.passed
    assert d.reasons == ("model version 'm1' != expected 'm2'",)


def test_persistence_n_of_m_views():
    config = GateConfig(views_per_unit=3, fail_views_required=2)
    gate = Gate(config)
    now = T0 + 20 * MS
    assert gate.add_result(result(3.0, stamp=T0 + 2 * MS), now) == []
    assert gate.add_result(result(1.0, stamp=T0), now) == []
    [d] = gate.add_result(result(1.0, stamp=T0 + 4 * MS), now)
    assert d.passed and d.stamp_ns == T0
    assert d.reasons[-1] == "persistence: 1 of 3 views failed, FAIL needs 2"
    [d] = Gate(config).add_result(result(3.0, uid="x", stamp=T0), now) or [None]
    assert d is None  # first view of a new unit: still waiting


def test_persistence_fails_with_enough_views():
    gate = Gate(GateConfig(views_per_unit=2, fail_views_required=2))
    gate.add_result(result(3.0, stamp=T0), T0 + MS)
    [d] = gate.add_result(result(2.5, stamp=T0 + MS), T0 + 2 * MS)
    assert not d.passed and "view 2/2: score: 2.5 > 2" in d.reasons


def test_deadline_fails_missing_result_and_late_result():
    gate = Gate(GateConfig(deadline_ms=100))
    gate.open_unit(T0, "u1", T0, "frame.png")
    assert gate.expire(T0 + 100 * MS) == []
    [d] = gate.expire(T0 + 101 * MS)
    assert not d.passed and d.reasons == ("deadline: no anomaly result after 100 ms",)
    assert d.source == "frame.png"
    [late] = Gate(GateConfig(deadline_ms=100)).add_result(result(0.1), T0 + 150 * MS)
    assert not late.passed and "deadline: input arrived 150.0 ms after capture" in late.reasons[0]


def test_duplicates_and_results_after_decision_are_counted_and_ignored():
    gate = Gate(GateConfig())
    assert len(gate.add_result(result(0.1), T0 + MS)) == 1
    assert gate.add_result(result(9.0), T0 + MS) == []
    assert gate.add_rejection(T0, "u1", "roi", "blank", T0 + MS) == []
    assert gate.counters.get("input_after_decision") == 2


def test_out_of_order_units_each_decided_once():
    gate = Gate(GateConfig())
    stamps = [T0 + i * MS for i in range(5)]
    for s in stamps:
        gate.open_unit(s, f"u{s}", T0)
    decided = []
    for s in reversed(stamps):
        decided += gate.add_result(result(0.1, stamp=s, uid=f"u{s}"), T0 + 10 * MS)
    assert sorted(d.stamp_ns for d in decided) == stamps
    assert gate.expire(T0 + 10_000 * MS) == []


def test_rejection_fails_at_once_with_its_reason():
    gate = Gate(GateConfig())
    gate.open_unit(T0, "u1", T0)
    [d] = gate.add_rejection(T0, "u1", "roi", "blank frame", T0 + MS)
    assert not d.passed and d.reasons == ("rejected by roi: blank frame",)


def test_future_stamp_and_overflow_fail():
    gate = Gate(GateConfig(deadline_ms=10))
    [d] = gate.add_result(result(0.1, stamp=T0 + 20 * MS), T0)
    assert "in the future" in d.reasons[0]
    gate = Gate(GateConfig())
    out = []
    for i in range(MAX_OPEN_UNITS + 1):
        out += gate.open_unit(T0 + i, "", T0)
    assert len(out) == 1 and "overflow" in out[0].reasons[0] and gate.open_units == MAX_OPEN_UNITS


def test_same_inputs_same_verdict():
    config = GateConfig(require_detections=True, min_area_px=5)
    inputs = (result(2.5, region=7), dets(("dent", 0.7, 40.0)))
    assert decide(config, *inputs) == decide(config, *inputs)


def test_the_active_recipe_decides():
    """A score of 4 passes under the recipe's limit 5 although the station's own limit is 3."""
    recipes = parse_recipes(["bottle_v2.score_threshold=5", "bottle_v2.min_area_px=20"])
    config = GateConfig(score_threshold=3.0, recipe="bottle_v2", recipes=recipes).validate()
    assert decide(config, result(4.0, region=30)).passed
    assert not decide(config, result(5.5, region=30)).passed


def test_the_failsafe_decision_is_a_fail_with_its_reason():
    d = failsafe_decision(T0, "u1", "gate error: KeyError", T0 + MS)
    assert not d.passed and d.reasons == ("gate error: KeyError",)
    assert math.isnan(d.score) and d.decided_ns - d.stamp_ns == MS
