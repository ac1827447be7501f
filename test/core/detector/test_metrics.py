"""mAP on hand-made cases whose values are worked out by hand in the comments."""

import numpy as np
import pytest

from inspection_nodes.core.detector.metrics import (
    DetectionEvaluator,
    average_precision,
    box_iou,
    match,
)

BOX = np.array([[0.0, 0.0, 10.0, 10.0]])


def test_box_iou() -> None:
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], dtype=float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], dtype=float)
    iou = box_iou(a, b)
    # overlap 50 / union 150 = 1/3 for the half-shifted box
    np.testing.assert_allclose(np.diag(iou), [1.0, 1 / 3, 0.0])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 3)


def test_all_point_interpolation() -> None:
    # ranks: TP, FP, TP over 2 ground truths -> recall .5 .5 1, precision 1 .5 .667
    # envelope: 1 up to recall .5, then .667 up to 1 -> AP = .5 * 1 + .5 * 2/3
    ap = average_precision(np.array([0.5, 0.5, 1.0]), np.array([1.0, 0.5, 2 / 3]))
    assert ap == pytest.approx(0.5 + 1 / 3)
    assert average_precision(np.array([]), np.array([])) == 0.0


def _evaluate(*images, classes=("a", "b")) -> dict:
    ev = DetectionEvaluator(list(classes))
    for image in images:
        ev.add(*image)
    return ev.result()


def test_perfect_predictions_score_one() -> None:
    gt = np.array([[0, 0, 10, 10], [20, 20, 40, 40]], dtype=float)
    r = _evaluate((gt, [0.9, 0.8], [0, 1], gt, [0, 1]))
    assert r["map50"] == r["map50_95"] == 1.0
    assert r["per_class_ap50"] == {"a": 1.0, "b": 1.0}
    assert r["gt_per_class"] == {"a": 1, "b": 1}


def test_a_confident_false_positive_halves_ap() -> None:
    # FP (0.9) ranked above the TP (0.8): precision at recall 1 is 1/2 -> AP = 0.5
    preds = np.array([[50, 50, 60, 60], [0, 0, 10, 10]], dtype=float)
    r = _evaluate((preds, [0.9, 0.8], [0, 0], BOX, [0]), classes=("a",))
    assert r["map50"] == pytest.approx(0.5)


def test_a_duplicate_below_the_match_costs_nothing() -> None:
    # TP then duplicate FP: recall reaches 1 at precision 1 -> AP = 1
    preds = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], dtype=float)
    r = _evaluate((preds, [0.9, 0.8], [0, 0], BOX, [0]), classes=("a",))
    assert r["map50"] == 1.0
    assert match(preds, [0.9, 0.8], BOX)[:, 0].tolist() == [True, False]


def test_iou_thresholds_for_map50_95() -> None:
    # prediction shifted by 2.5 px: IoU = 75 / 125 = 0.6 -> TP at 0.50, 0.55, 0.60 only
    pred = np.array([[2.5, 0, 12.5, 10]])
    r = _evaluate((pred, [0.9], [0], BOX, [0]), classes=("a",))
    assert r["map50"] == 1.0
    assert r["map50_95"] == pytest.approx(0.3)


def test_wrong_class_and_missed_box() -> None:
    # image 1: class a found, class b predicted as a (FP for a, b missed)
    # image 2: b found. a: TP(0.9) FP(0.7) over 1 gt -> AP 1; b: 1 of 2 found -> AP 0.5
    gt1 = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], dtype=float)
    r = _evaluate(
        (gt1, [0.9, 0.7], [0, 0], gt1, [0, 1]),
        (BOX, [0.8], [1], BOX, [1]),
    )
    assert r["per_class_ap50"] == {"a": 1.0, "b": pytest.approx(0.5)}
    assert r["map50"] == pytest.approx(0.75)


def test_class_without_ground_truth_is_left_out_of_the_mean() -> None:
    r = _evaluate((BOX, [0.9], [0], BOX, [0]), classes=("a", "b", "c"))
    assert r["per_class_ap50"] == {"a": 1.0, "b": None, "c": None}
    assert r["map50"] == 1.0


def test_false_positives_only_for_a_class_without_ground_truth_do_not_count() -> None:
    far = np.array([[50, 50, 60, 60]], dtype=float)
    r = _evaluate((np.vstack([BOX, far]), [0.9, 0.95], [0, 1], BOX, [0]))
    assert r["per_class_ap50"] == {"a": 1.0, "b": None}


def test_undetected_class_has_ap_zero() -> None:
    r = _evaluate((np.zeros((0, 4)), [], [], BOX, [1]))
    assert r["per_class_ap50"] == {"a": None, "b": 0.0} and r["map50"] == 0.0


def test_errors() -> None:
    with pytest.raises(ValueError, match="no ground-truth"):
        _evaluate((BOX, [0.9], [0], np.zeros((0, 4)), []))
    with pytest.raises(ValueError, match="prediction class outside"):
        _evaluate((BOX, [0.9], [5], BOX, [0]))
