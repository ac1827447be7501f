"""Conversions between ROS messages and core types, in one place (the nodes' only numpy glue)."""

from __future__ import annotations

import array
import time

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image

from inspection_msgs.msg import StageTiming
from inspection_nodes.core.io.image_encoding import encoding_for, image_array

NS_PER_S = 1_000_000_000


def stamp_to_ns(stamp: Time) -> int:
    """Capture stamps are the join key of a unit across topics: compare them as integers."""
    return stamp.sec * NS_PER_S + stamp.nanosec


def ns_to_stamp(ns: int) -> Time:
    return Time(sec=ns // NS_PER_S, nanosec=ns % NS_PER_S)


def wall_ns() -> int:
    """Wall clock in ns, the clock capture stamps are taken with (shared by all processes)."""
    return time.time_ns()


def ms_since(stamp_ns: int) -> float:
    return (wall_ns() - stamp_ns) / 1e6


def image_to_array(msg: Image) -> np.ndarray:
    """(H, W, C) view of an Image message; raises ImageFormatError with the reason."""
    return image_array(
        msg.data, msg.height, msg.width, msg.encoding, msg.step, bool(msg.is_bigendian)
    )


def array_to_image(
    pixels: np.ndarray, header, encoding: str | None = None, out: Image | None = None
) -> Image:
    """Fill an Image from a contiguous array (RGB order unless an encoding is given)."""
    pixels = np.ascontiguousarray(pixels)
    msg = out if out is not None else Image()
    msg.header = header
    msg.height, msg.width = int(pixels.shape[0]), int(pixels.shape[1])
    msg.encoding = encoding or encoding_for(pixels)
    msg.is_bigendian = 0
    msg.step = int(pixels.strides[0])
    msg.data = _packed("B", pixels)
    return msg


def _packed(typecode: str, contiguous: np.ndarray) -> array.array:
    """A numeric message field value copied from the array's buffer in one memcpy.

    Assigning a numpy array to a float32[] field makes rosidl build the array.array element by
    element (measured: 20+ ms for a 476 kB PatchEmbedding, more than the backbone itself).
    """
    out = array.array(typecode)
    out.frombytes(memoryview(contiguous).cast("B"))
    return out


def float32_array(values: np.ndarray) -> array.array:
    """float32[] message field value (see _packed)."""
    return _packed("f", np.ascontiguousarray(values, dtype=np.float32))


def timing(stage: str, latency_ms: float) -> StageTiming:
    return StageTiming(stage=stage, latency_ms=float(latency_ms))


def timings_dict(timings) -> dict[str, float]:
    return {t.stage: t.latency_ms for t in timings}
