"""Gate configuration and the pure rules that judge one view (no unit bookkeeping)."""

from __future__ import annotations

import math

import pytest

from inspection_nodes.core.gate.rules import (
    ClassRule,
    Detection,
    DetectionSet,
    GateConfig,
    ScoreResult,
    class_rule,
    detection_faults,
    input_faults,
    parse_recipes,
    score_limit,
    view_reasons,
)


def _result(score=1.0, thr=2.0, region=50, version="m1") -> ScoreResult:
    return ScoreResult(1, "u1", version, score, thr, region, {})


def test_score_limit_is_fixed_or_the_scaled_model_threshold():
    assert score_limit(GateConfig(score_threshold=4.0), _result(thr=2.0)) == 4.0
    assert score_limit(GateConfig(score_threshold_scale=1.5), _result(thr=2.0)) == 3.0


def test_input_faults_name_what_is_wrong():
    assert input_faults(GateConfig(), _result()) == []
    assert input_faults(GateConfig(), _result(score=math.nan))[0].startswith("malformed")
    faults = input_faults(GateConfig(expected_model_version="m2"), _result())
    assert faults == ["model version 'm1' != expected 'm2'"]
    found = DetectionSet(1, "u1", "d1", (Detection("dent", math.inf, 3.0),))
    assert detection_faults(GateConfig(expected_detector_version="d2"), found) == [
        "detector version 'd1' != expected 'd2'",
        f"malformed detection 'dent': {found.detections[0]}",
    ]


def test_view_reasons_in_rule_order():
    config = GateConfig(min_area_px=10, class_rules=(ClassRule("*", 0.5),))
    found = DetectionSet(1, "u1", "d1", (Detection("dent", 0.7, 40.0),))
    failed, reasons = view_reasons(config, _result(score=3.0, region=12), found)
    assert failed and [r.split(":")[0] for r in reasons] == ["score", "area", "class dent"]
    failed, reasons = view_reasons(config, _result(score=3.0, region=5), None)
    assert not failed and reasons[0].startswith("area: largest region 5 px < 10 px")


def test_a_class_own_rule_wins_over_the_wildcard_whatever_the_order():
    config = GateConfig(class_rules=(ClassRule("*", 0.9), ClassRule("scratch", 0.3)))
    assert class_rule(config, "scratch").min_confidence == 0.3
    assert class_rule(config, "dent").class_name == "*"
    assert class_rule(GateConfig(class_rules=()), "dent") is None


def test_recipe_overrides_apply_where_in_force():
    recipes = parse_recipes(["bottle_v2.score_threshold=5", "", "bottle_v2.min_area_px=20"])
    config = GateConfig(score_threshold=3.0, recipe="bottle_v2", recipes=recipes).validate()
    assert config.value("score_threshold") == 5.0 and config.value("min_area_px") == 20
    changed = config.with_value("score_threshold", 6.0)
    assert changed.value("score_threshold") == 6.0 and changed.score_threshold == 3.0
    assert changed.version != config.version
    assert config.with_value("score_threshold_scale", 2.0).score_threshold_scale == 2.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"deadline_ms": 0.0}, "deadline_ms=0.0 must be > 0"),
        ({"score_threshold": -1.0}, "score_threshold=-1.0"),
        ({"score_threshold_scale": math.nan}, "score_threshold_scale=nan"),
        ({"fail_views_required": 2}, "must be in [1, views_per_unit=1]"),
        ({"min_area_mm2": 1.0}, "needs mm_per_px > 0"),
        ({"recipe": "x"}, "unknown recipe"),
        ({"recipes": {"r": {"deadline_ms": 1.0}}}, "'deadline_ms' cannot be overridden"),
        ({"recipe": "r", "recipes": {"r": {"min_area_px": -1}}}, "min_area_px=-1"),
    ],
)
def test_bad_config_rejected_with_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        GateConfig(**kwargs).validate()


@pytest.mark.parametrize(
    ("text", "message"),
    [("scratch", "expected 'class:min_confidence"), ("a:x", "numbers"), ("a:1.5", "in [0, 1]")],
)
def test_bad_class_rule(text, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        ClassRule.parse(text)


def test_bad_recipe_entry_and_threshold_name():
    with pytest.raises(ValueError, match=r"expected 'recipe\.threshold=value'"):
        parse_recipes(["score_threshold=3"])
    with pytest.raises(ValueError, match="not a tunable threshold"):
        GateConfig().with_value("deadline_ms", 1.0)
    with pytest.raises(ValueError, match="whole number"):
        GateConfig().with_value("min_area_px", 1.5)
