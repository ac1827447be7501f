"""Message <-> numpy conversions: stamps as integers, Image round trips, float32[] packing."""

import array

import numpy as np
from builtin_interfaces.msg import Time
from std_msgs.msg import Header

from inspection_nodes.nodes.convert import (
    array_to_image,
    float32_array,
    image_to_array,
    ns_to_stamp,
    stamp_to_ns,
    timing,
    timings_dict,
)


def test_stamps_round_trip_as_integer_nanoseconds():
    ns = 1_700_000_000_123_456_789
    stamp = ns_to_stamp(ns)
    assert (stamp.sec, stamp.nanosec) == (1_700_000_000, 123_456_789)
    assert stamp_to_ns(stamp) == ns and stamp_to_ns(Time()) == 0


def test_images_round_trip_with_encoding_and_step():
    rgb = np.random.default_rng(0).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    msg = array_to_image(rgb, Header(stamp=ns_to_stamp(5)))
    assert (msg.height, msg.width, msg.encoding, msg.step) == (5, 7, "rgb8", 21)
    np.testing.assert_array_equal(image_to_array(msg), rgb)
    mono = array_to_image(np.arange(12, dtype=np.uint8).reshape(3, 4), Header(), "mono8")
    assert mono.encoding == "mono8" and image_to_array(mono).shape[:2] == (3, 4)
    view = rgb[:, ::2]  # not contiguous: copied once
    np.testing.assert_array_equal(image_to_array(array_to_image(view, Header())), view)


def test_float32_fields_are_packed_in_one_copy():
    values = np.arange(6, dtype=np.float64).reshape(2, 3)
    packed = float32_array(values)
    assert isinstance(packed, array.array) and packed.typecode == "f"
    assert list(packed) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_timings_by_stage():
    timings = [timing("roi", 1.5), timing("scoring", 2)]
    assert timings_dict(timings) == {"roi": 1.5, "scoring": 2.0}
