import pytest

from inspection_nodes.core.metrics.reasons import reason_label


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("rejected by roi: blank frame", "rejected_by_roi"),
        ("rejected by ?: x", "other"),
        ("deadline: no anomaly result after 200 ms", "deadline"),
        ("malformed: score=nan image_threshold=2.0", "malformed"),
        ("malformed detection 'x': ...", "malformed"),
        ("model version 'm1' != expected 'm2'", "model_version"),
        ("detector version 'd1' != expected 'd2'", "model_version"),
        ("gate error: boom", "gate_error"),
        ("overflow: more than 4096 units open", "gate_error"),
        ("score: 2.5 > 2", "score"),
        ("area: largest region 12 px < 40 px, score 2.5 > 2 ignored", "area"),
        ("class scratch: confidence 0.610 >= 0.5, area 120 px >= 100", "class"),
        ("persistence: 1 of 3 views failed, FAIL needs 2", "persistence"),
        ("something new", "other"),
    ],
)
def test_reasons_become_rule_names_never_raw_text(reason, label):
    assert reason_label(reason) == label
