"""Units captured for a recalibration: halves joined by stamp, bounded, named, timed out."""

import numpy as np
import pytest

from inspection_nodes.core.stability.capture import UnitCapture


def _feat(v: float) -> np.ndarray:
    return np.full((2, 2, 3), v, np.float32)


def test_units_complete_when_both_halves_arrived_in_any_order():
    capture = UnitCapture(units=2, deadline=10.0)
    assert not capture.add(1, roi=np.zeros((4, 4, 3), np.uint8))
    assert not capture.add(2, "u2", feats=_feat(2))
    assert not capture.add(1, "u1", feats=_feat(1))
    assert capture.add(2, roi=np.ones((4, 4, 3), np.uint8))
    images, feats, names = capture.take()
    assert names == ["u1", "u2"] and feats.shape == (2, 2, 2, 3)
    assert images[1].max() == 1 and feats[0].max() == 1.0


def test_unnamed_units_are_named_by_stamp_and_extra_units_are_not_taken():
    capture = UnitCapture(units=1, deadline=10.0)
    for stamp in (5, 7):
        capture.add(stamp, roi=np.zeros((2, 2, 3), np.uint8), feats=_feat(stamp))
    images, feats, names = capture.take()
    assert names == ["5"] and len(images) == 1 and feats[0].max() == 5.0


def test_halves_that_never_complete_are_dropped_oldest_first():
    capture = UnitCapture(units=2, deadline=10.0)
    for stamp in range(100):
        capture.add(stamp, roi=np.zeros((1, 1, 3), np.uint8))
    assert len(capture.rois) == 2 * 2 + 20 and min(capture.rois) == 100 - 24


def test_the_deadline_passes_only_for_an_unfinished_capture():
    capture = UnitCapture(units=1, deadline=10.0)
    assert not capture.expired(9.0) and capture.expired(11.0)
    capture.add(1, roi=np.zeros((1, 1, 3), np.uint8), feats=_feat(1))
    assert not capture.expired(11.0)
    with pytest.raises(ValueError, match="at least 1"):
        UnitCapture(units=0, deadline=1.0)
