"""The rosbags typestore built from msg/ decodes what real rclpy serialises, field for field."""

from __future__ import annotations

import numpy as np
from helpers.messages import custom_message_types, filled
from rclpy.serialization import deserialize_message, serialize_message

from inspection_nodes.core.io.bags import cell_typestore


def _same(rclpy_value, rosbags_value) -> bool:
    if hasattr(rclpy_value, "get_fields_and_field_types"):
        return all(
            _same(getattr(rclpy_value, f), getattr(rosbags_value, f))
            for f in rclpy_value.get_fields_and_field_types()
        )
    if isinstance(rclpy_value, list):
        return len(rclpy_value) == len(rosbags_value) and all(
            _same(a, b) for a, b in zip(rclpy_value, rosbags_value, strict=True)
        )
    if isinstance(rosbags_value, np.ndarray):
        return np.array_equal(np.asarray(rclpy_value), rosbags_value)
    if isinstance(rclpy_value, float):
        return np.isclose(rclpy_value, rosbags_value)
    return rclpy_value == rosbags_value


def test_every_custom_type_decodes_from_rclpy_bytes():
    store = cell_typestore()
    for cls in custom_message_types():
        msg = filled(cls, seed=3)
        raw = serialize_message(msg)
        decoded = store.deserialize_cdr(raw, f"inspection_msgs/msg/{cls.__name__}")
        assert _same(msg, decoded), cls.__name__
        back = store.serialize_cdr(decoded, f"inspection_msgs/msg/{cls.__name__}")
        assert deserialize_message(bytes(back), cls) == msg, cls.__name__


def test_type_hashes_match_rosidl():
    """rosbags' RIHS01 hash of each type equals the one rosidl wrote for the built package."""
    import json
    import sys
    from pathlib import Path

    store = cell_typestore()
    share = Path(sys.prefix) / "share" / "inspection_msgs" / "msg"
    for cls in custom_message_types():
        description = json.loads((share / f"{cls.__name__}.json").read_text())
        rosidl_hash = description["type_hashes"][0]["hash_string"]
        assert store.hash_rihs01(f"inspection_msgs/msg/{cls.__name__}") == rosidl_hash, cls
