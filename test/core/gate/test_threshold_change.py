"""Run-time threshold changes: checked as a whole, named requester, audit body."""

import pytest

from inspection_nodes.core.gate.rules import GateConfig, parse_recipes
from inspection_nodes.core.gate.threshold_change import change_threshold


def test_a_change_records_both_values_and_both_config_versions():
    config = GateConfig(score_threshold=5.0).validate()
    change = change_threshold(config, "score_threshold", 6.5, "anna", "new lot")
    assert (change.old_value, change.new_value) == (5.0, 6.5)
    assert change.config.score_threshold == 6.5 and config.score_threshold == 5.0
    body = change.audit_body("/gate")
    assert body == {
        "node": "/gate",
        "name": "score_threshold",
        "recipe": "",
        "old": 5.0,
        "new": 6.5,
        "reason": "new lot",
        "old_config_version": config.version,
        "new_config_version": change.config.version,
    }
    assert body["old_config_version"] != body["new_config_version"]


def test_the_change_lands_in_the_active_recipe_when_it_overrides_the_value():
    config = GateConfig(recipe="lot_b", recipes=parse_recipes(["lot_b.min_area_px=50"])).validate()
    change = change_threshold(config, "min_area_px", 80, "qe", "")
    assert change.config.recipes["lot_b"]["min_area_px"] == 80 and change.new_value == 80


@pytest.mark.parametrize(
    ("name", "value", "by", "message"),
    [
        ("deadline_ms", 5.0, "anna", "not a tunable threshold"),
        ("score_threshold", 5.0, " ", "requested_by is required"),
        ("min_area_px", 2.5, "anna", "whole number"),
        ("score_threshold_scale", -1.0, "anna", "score_threshold_scale"),
    ],
)
def test_refused_changes_say_why(name, value, by, message):
    with pytest.raises(ValueError, match=message):
        change_threshold(GateConfig().validate(), name, value, by, "")
