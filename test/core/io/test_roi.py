import numpy as np
import pytest

from inspection_nodes.core.io.roi import RoiConfig, RoiError, RoiExtractor


def _frame(h=100, w=120):
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)


def test_crop_then_resize_gives_output_size():
    roi = RoiExtractor(RoiConfig(crop=(10, 20, 60, 50), output_size=(32, 16))).extract(_frame())
    assert roi.shape == (16, 32, 3) and roi.dtype == np.uint8 and roi.flags.c_contiguous


def test_crop_without_resize_is_exact_pixels():
    frame = _frame()
    roi = RoiExtractor(RoiConfig(crop=(10, 20, 60, 50), output_size=(60, 50))).extract(frame)
    assert np.array_equal(roi, frame[20:70, 10:70])


def test_polygon_masks_outside_pixels():
    frame = np.full((64, 64, 3), 200, np.uint8)
    frame[::2] = 100  # contrast, so the frame is not blank
    cfg = RoiConfig(polygon=(0, 0, 31, 0, 31, 63, 0, 63), output_size=(64, 64), mask_value=7)
    roi = RoiExtractor(cfg).extract(frame)
    assert (roi[:, 40:] == 7).all() and (roi[:, :30] != 7).all()


@pytest.mark.parametrize(
    ("config", "frame", "match"),
    [
        (RoiConfig(crop=(100, 0, 50, 50)), _frame(), "outside frame"),
        (RoiConfig(), _frame(10, 10), "smaller than minimum"),
        (RoiConfig(), np.full((64, 64, 3), 9, np.uint8), "blank frame"),
        (RoiConfig(), np.zeros((64, 64), np.uint8), "expected uint8 RGB"),
    ],
)
def test_unusable_frames_raise_with_reason(config, frame, match):
    with pytest.raises(RoiError, match=match):
        RoiExtractor(config).extract(frame)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"crop": (0, 0, 0, 10)},
        {"polygon": (1, 2, 3, 4)},
        {"output_size": (8, 8)},
        {"mask_value": 300},
        {"blank_std_limit": -1.0},
    ],
)
def test_bad_config_is_rejected(kwargs):
    with pytest.raises(ValueError):
        RoiConfig(**kwargs)


@pytest.mark.parametrize(("shape", "size"), [((900, 900), (224, 224)), ((481, 640), (100, 75))])
def test_large_area_reduction_matches_opencv_area_resize(shape, size):
    """The two-stage reduction (exact integer blocks, then area) stays an anti-aliased area
    resize: close to cv2.INTER_AREA on a smooth frame, and a fine checkerboard (aliasing bait)
    averages to flat grey instead of a moire pattern."""
    import cv2

    from inspection_nodes.core.io.roi import resize

    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    smooth = ((np.sin(xs / 37.0) + np.cos(ys / 23.0)) * 60 + 128).astype(np.uint8)
    frame = np.dstack([smooth, smooth[::-1], smooth[:, ::-1]])
    ours = resize(frame, size, cv2.INTER_AREA)
    reference = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    assert ours.shape == reference.shape
    assert np.abs(ours.astype(int) - reference).mean() < 2.0
    checker = (((xs + ys) % 2) * 255).astype(np.uint8)
    flat = resize(np.dstack([checker] * 3), size, cv2.INTER_AREA)
    assert np.abs(flat.astype(int) - 127).max() <= 20


def test_other_interpolations_and_small_ratios_are_plain_opencv():
    import cv2

    from inspection_nodes.core.io.roi import resize

    frame = _frame(100, 120)
    for interpolation, size in ((cv2.INTER_LINEAR, (30, 20)), (cv2.INTER_AREA, (80, 70))):
        expected = cv2.resize(frame, size, interpolation=interpolation)
        assert np.array_equal(resize(frame, size, interpolation), expected)
