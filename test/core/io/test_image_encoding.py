import numpy as np
import pytest

from inspection_nodes.core.io.image_encoding import (
    ImageFormatError,
    encoding_for,
    image_array,
    to_rgb8,
)


def test_rgb_round_trip_with_row_padding():
    pixels = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    step = 5 * 3 + 1
    padded = np.zeros((4, step), np.uint8)
    padded[:, :15] = pixels.reshape(4, 15)
    out = image_array(padded.tobytes(), 4, 5, "rgb8", step)
    assert np.array_equal(out, pixels)


@pytest.mark.parametrize(
    ("encoding", "channels", "expected_first"),
    [
        ("bgr8", 3, [3, 2, 1]),
        ("rgba8", 4, [1, 2, 3]),
        ("bgra8", 4, [3, 2, 1]),
        ("mono8", 1, [1, 1, 1]),
    ],
)
def test_to_rgb8_orders_channels(encoding, channels, expected_first):
    raw = np.tile(np.arange(1, channels + 1, dtype=np.uint8), (2, 2, 1))
    assert to_rgb8(raw, encoding)[0, 0].tolist() == expected_first


def test_mono16_big_endian_scaled_to_8_bit():
    value = np.array([[0x1234]], dtype=">u2")
    out = image_array(value.tobytes(), 1, 1, "mono16", 2, is_bigendian=True)
    assert to_rgb8(out, "mono16")[0, 0].tolist() == [0x12] * 3


@pytest.mark.parametrize(
    ("data", "h", "w", "enc", "step", "match"),
    [
        (b"\0" * 12, 2, 2, "yuv422", 6, "unsupported encoding"),
        (b"\0" * 11, 2, 2, "rgb8", 6, "expected step"),
        (b"\0" * 12, 2, 2, "rgb8", 5, "step 5"),
        (b"", 0, 2, "rgb8", 6, "empty image"),
    ],
)
def test_bad_images_are_rejected_with_the_reason(data, h, w, enc, step, match):
    with pytest.raises(ImageFormatError, match=match):
        image_array(data, h, w, enc, step)


def test_encoding_for_arrays():
    assert encoding_for(np.zeros((2, 2, 3), np.uint8)) == "rgb8"
    assert encoding_for(np.zeros((2, 2), np.uint8)) == "mono8"
    with pytest.raises(ImageFormatError):
        encoding_for(np.zeros((2, 2, 3), np.float32))
