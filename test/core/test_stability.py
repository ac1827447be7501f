import pytest

from inspection_nodes.core.stability import StabilityConfig, StabilityMonitor


def _monitor():
    return StabilityMonitor(StabilityConfig(window=10, reference_units=10))


def test_unchanged_input_stays_ok():
    m = _monitor()
    for i in range(40):
        m.add_score(1.0 + 0.01 * (i % 3), image_threshold=2.0)
        m.add_luminance(120.0 + (i % 2))
    state = m.state()
    assert state.level == "ok" and state.index < 0.5


def test_brightness_drop_reaches_recalibrate():
    m = _monitor()
    for _ in range(10):
        m.add_luminance(120.0)
    for _ in range(10):
        m.add_luminance(90.0)
    state = m.state()
    assert state.components["luminance"][0] == pytest.approx(30.0)
    assert state.level == "recalibrate"


def test_scores_creeping_to_threshold_raise_the_index():
    m = _monitor()
    for _ in range(10):
        m.add_score(1.0, 2.0)
    for _ in range(10):
        m.add_score(1.6, 2.0)
    assert m.state().components["score_p95"][1] == pytest.approx(0.6)
    assert m.state().level == "watch"


def test_false_rejects_count():
    m = _monitor()
    for i in range(10):
        m.add_disposition(i < 2)
    assert m.state().components["false_rejects"][0] == pytest.approx(0.2)


def test_bad_config():
    with pytest.raises(ValueError):
        StabilityConfig(watch_at=2.0, recalibrate_at=1.0)
