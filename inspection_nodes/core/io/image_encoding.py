"""sensor_msgs/Image encodings as numpy layouts, without cv_bridge (not available from PyPI).

Only the encodings a machine-vision camera realistically sends are accepted; anything else is
rejected with a message naming the encoding, so a misconfigured camera is obvious in the logs.
"""

from __future__ import annotations

import numpy as np

# encoding -> (numpy dtype, channels)
ENCODINGS: dict[str, tuple[np.dtype, int]] = {
    "rgb8": (np.dtype(np.uint8), 3),
    "bgr8": (np.dtype(np.uint8), 3),
    "rgba8": (np.dtype(np.uint8), 4),
    "bgra8": (np.dtype(np.uint8), 4),
    "mono8": (np.dtype(np.uint8), 1),
    "mono16": (np.dtype(np.uint16), 1),
}


class ImageFormatError(ValueError):
    """The bytes of an image do not describe a picture the cell can use."""


def image_array(
    data: bytes | bytearray | memoryview | np.ndarray,
    height: int,
    width: int,
    encoding: str,
    step: int,
    is_bigendian: bool = False,
) -> np.ndarray:
    """View raw Image bytes as an (H, W, C) array without copying when rows are unpadded."""
    if encoding not in ENCODINGS:
        known = ", ".join(sorted(ENCODINGS))
        raise ImageFormatError(f"unsupported encoding {encoding!r} (supported: {known})")
    if height <= 0 or width <= 0:
        raise ImageFormatError(f"empty image {width}x{height}")
    dtype, channels = ENCODINGS[encoding]
    if dtype.itemsize > 1:
        dtype = dtype.newbyteorder(">" if is_bigendian else "<")
    row_bytes = width * channels * dtype.itemsize
    if step < row_bytes:
        raise ImageFormatError(f"step {step} < {row_bytes} bytes needed for {width} px {encoding}")
    buffer = np.frombuffer(data, dtype=np.uint8)
    if buffer.size != step * height:
        raise ImageFormatError(
            f"data has {buffer.size} bytes, expected step*height = {step}*{height}"
        )
    rows = buffer.reshape(height, step)[:, :row_bytes]
    return rows.view(dtype).reshape(height, width, channels)


def to_rgb8(array: np.ndarray, encoding: str) -> np.ndarray:
    """Convert any supported layout to contiguous uint8 RGB (H, W, 3), the backbone's input."""
    if encoding in ("rgb8",):
        out = array
    elif encoding == "bgr8":
        out = array[..., ::-1]
    elif encoding == "rgba8":
        out = array[..., :3]
    elif encoding == "bgra8":
        out = array[..., 2::-1]
    elif encoding == "mono8":
        out = np.repeat(array, 3, axis=2)
    elif encoding == "mono16":
        out = np.repeat((array >> 8).astype(np.uint8), 3, axis=2)
    else:
        raise ImageFormatError(f"unsupported encoding {encoding!r}")
    return np.ascontiguousarray(out, dtype=np.uint8)


def encoding_for(array: np.ndarray) -> str:
    """The encoding under which an (H, W[, C]) uint8 array is published (RGB order assumed)."""
    if array.dtype == np.uint8 and (array.ndim == 2 or array.shape[2] == 1):
        return "mono8"
    if array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] == 3:
        return "rgb8"
    if array.dtype == np.uint16 and (array.ndim == 2 or array.shape[2] == 1):
        return "mono16"
    raise ImageFormatError(f"no encoding for array of shape {array.shape} and dtype {array.dtype}")
