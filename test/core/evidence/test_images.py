"""Evidence images: lossless PNG round trip, colour order, JPEG, float maps kept exactly."""

from __future__ import annotations

import numpy as np
import pytest

from inspection_nodes.core.evidence.images import decode_image, encode_image


def test_png_is_lossless_and_bgr_on_disk() -> None:
    rgb = np.random.default_rng(0).integers(0, 255, (32, 48, 3), dtype=np.uint8)
    media, data = encode_image(rgb, "rgb8")
    assert media == "image/png"
    np.testing.assert_array_equal(decode_image(media, data)[..., ::-1], rgb)


def test_jpeg_and_mono16() -> None:
    gray = np.full((20, 20), 128, np.uint8)
    media, data = encode_image(gray, "mono8", "jpg", 95)
    assert media == "image/jpeg" and np.abs(decode_image(media, data).astype(int) - 128).max() < 3
    deep = np.arange(400, dtype=np.uint16).reshape(20, 20)
    np.testing.assert_array_equal(decode_image(*encode_image(deep, "mono16")), deep)


def test_float_map_is_kept_exactly() -> None:
    heat = np.random.default_rng(1).random((8, 8, 1), dtype=np.float32)
    media, data = encode_image(heat, "32FC1")
    assert media == "application/x-npy"
    np.testing.assert_array_equal(decode_image(media, data), heat)


def test_bad_format_is_refused() -> None:
    with pytest.raises(ValueError, match="image format"):
        encode_image(np.zeros((2, 2), np.uint8), "mono8", "gif")
