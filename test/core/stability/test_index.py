"""Stability index: every component against a known baseline, levels, window, fallback."""

from __future__ import annotations

import numpy as np
import pytest

from inspection_nodes.core.stability.baseline import fit_baseline, image_stats
from inspection_nodes.core.stability.index import Level, StabilityConfig, StabilityMonitor

C = 16  # feature channels of the synthetic units
GREY = np.full((8, 8, 3), 120, np.uint8)


def _good_centroids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Centroids that vary strongly along the first two channels only (like part pose)."""
    points = rng.normal(0.0, 0.05, (n, C))
    points[:, :2] += rng.normal(0.0, 3.0, (n, 2))
    return points


def _baseline(rng: np.random.Generator):
    scores = 1.0 + 0.05 * rng.standard_normal(20)  # p50 ~ 1.0, threshold 2.0: gap ~ 1.0
    stats = [image_stats(GREY) for _ in range(20)]
    return fit_baseline("enrollment", "v1", scores, 2.0, _good_centroids(rng, 40), stats)


def _unit(monitor, centroid, score=1.0, roi=GREY) -> None:
    monitor.add_result(score, 2.0)
    monitor.add_roi(roi)
    monitor.add_embedding(np.broadcast_to(centroid, (2, 2, C)).astype(np.float32))


@pytest.fixture
def monitor() -> StabilityMonitor:
    rng = np.random.default_rng(0)
    return StabilityMonitor(StabilityConfig(window=20, reference_units=20), _baseline(rng))


def test_unchanged_units_stay_ok(monitor) -> None:
    rng = np.random.default_rng(1)
    for c in _good_centroids(rng, 80):
        _unit(monitor, c, 1.0 + 0.05 * rng.standard_normal())
        assert monitor.state().level == Level.OK
    state = monitor.state()
    assert set(state.components) == {
        "score_p50",
        "score_p95",
        "centroid_shift",
        "centroid_change",
        "luminance",
        "colour",
        "false_rejects",
    }
    assert state.index < 0.5 and state.baseline_source == "enrollment"


def test_components_wait_for_a_full_window(monitor) -> None:
    for c in _good_centroids(np.random.default_rng(1), 19):
        _unit(monitor, c, score=5.0)
    assert monitor.state().components == {} and monitor.state().level == Level.OK
    _unit(monitor, np.zeros(C), score=5.0)
    assert monitor.state().level == Level.RECALIBRATE


@pytest.mark.parametrize(
    ("change", "component", "raw"),
    [
        ({"score": 2.0}, "score_p50", 2.0),  # median at the threshold: one gap
        ({"score": 4.0}, "score_p95", 4.0),
        ({"roi": (GREY * 0.75).astype(np.uint8)}, "luminance", -0.25),
        ({"roi": np.dstack([GREY[..., :1] + 40, GREY[..., 1:]])}, "colour", None),
        ({"offset": 0.5}, "centroid_shift", None),  # along channels that never varied
    ],
)
def test_each_component_reaches_recalibrate(monitor, change, component, raw) -> None:
    rng = np.random.default_rng(2)
    for c in _good_centroids(rng, 20):
        _unit(monitor, c)
    offset = np.zeros(C)
    offset[2:] = change.get("offset", 0.0)
    for c in _good_centroids(rng, 20):
        _unit(monitor, c + offset, change.get("score", 1.0), change.get("roi", GREY))
    state = monitor.state()
    value, normalised = state.components[component]
    assert normalised >= 1.0 and state.level == Level.RECALIBRATE
    assert state.index == max(n for _, n in state.components.values())
    if raw is not None:
        assert value == pytest.approx(raw, abs=0.01)


def test_centroid_change_sees_a_step_the_enrollment_spread_hides(monitor) -> None:
    """This run started a little off enrollment (+offset), then the camera moved (-offset):
    both states are within centroid_limit of enrollment, the step is over change_limit."""
    rng = np.random.default_rng(3)
    offset = np.zeros(C)
    offset[2:] = 0.045  # about 0.8 typical-unit distances along directions that never varied
    for c in _good_centroids(rng, 20):
        _unit(monitor, c + offset)
    for c in _good_centroids(rng, 20):
        _unit(monitor, c - offset)
    comps = monitor.state().components
    assert comps["centroid_shift"][1] < 1.0 <= comps["centroid_change"][1]


def test_false_rejects_count_per_unit_and_leave_the_window(monitor) -> None:
    rng = np.random.default_rng(4)
    for c in _good_centroids(rng, 20):
        _unit(monitor, c)
    monitor.add_disposition(True)
    monitor.add_disposition(False)  # a confirmed FAIL is not an override
    monitor.add_disposition(True)
    assert monitor.state().components["false_rejects"] == pytest.approx((0.1, 2.0))
    for c in _good_centroids(rng, 20):
        _unit(monitor, c)
    assert monitor.state().components["false_rejects"][0] == 0.0


def test_without_baseline_the_reference_window_is_the_baseline() -> None:
    monitor = StabilityMonitor(StabilityConfig(window=10, reference_units=10))
    rng = np.random.default_rng(5)
    for c in _good_centroids(rng, 10):
        _unit(monitor, c)
    state = monitor.state()
    assert state.baseline_source == "reference" and "centroid_change" not in state.components
    assert state.level == Level.OK
    for c in _good_centroids(rng, 10):
        _unit(monitor, c, roi=(GREY * 0.7).astype(np.uint8))
    assert monitor.state().components["luminance"][1] >= 1.0


def test_reset_starts_over_with_the_new_baseline(monitor) -> None:
    for c in _good_centroids(np.random.default_rng(6), 20):
        _unit(monitor, c, score=9.0)
    assert monitor.state().level == Level.RECALIBRATE
    monitor.reset(_baseline(np.random.default_rng(7)))
    assert monitor.state().components == {} and monitor.state().index == 0.0


def test_non_finite_scores_are_not_statistics(monitor) -> None:
    for c in _good_centroids(np.random.default_rng(8), 20):
        _unit(monitor, c)
    monitor.add_result(float("nan"), 2.0)
    assert monitor.state().components["score_p50"][0] == pytest.approx(1.0, abs=0.2)


def test_embedding_of_another_model_is_refused(monitor) -> None:
    with pytest.raises(ValueError, match="channels"):
        monitor.add_embedding(np.zeros((2, 2, C + 1), np.float32))


def test_levels() -> None:
    cfg = StabilityConfig()
    assert [cfg.level(v) for v in (0.0, 0.49, 0.5, 0.99, 1.0, float("nan"))] == [
        Level.OK,
        Level.OK,
        Level.WATCH,
        Level.WATCH,
        Level.RECALIBRATE,
        Level.RECALIBRATE,
    ]


@pytest.mark.parametrize(
    "bad",
    [
        {"watch_at": 2.0, "recalibrate_at": 1.0},
        {"window": 4},
        {"luminance_limit": 0.0},
        {"centroid_limit": -1.0},
    ],
)
def test_bad_config(bad) -> None:
    with pytest.raises(ValueError):
        StabilityConfig(**bad)
