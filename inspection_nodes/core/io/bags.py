"""ROS 2 bags without ROS: the cell's custom types registered in rosbags from the msg/ text.

The same .msg files rosidl generates `inspection_msgs` from are parsed here, so a bag recorded
by the cell (MCAP by default) can be read and replayed on any machine with only rosbags.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from inspection_nodes import PACKAGE_DIR
from inspection_nodes.core.io.image_encoding import ImageFormatError, image_array

INTERFACE_PACKAGE = "inspection_msgs"


def msg_dir() -> Path:
    """msg/ of the source tree, or of the installed share/inspection_nodes when not in a clone:
    beside the environment (pip) or beside the package's own prefix (colcon's
    install/inspection_nodes, whose lib/python3.X/site-packages holds the package)."""
    source = PACKAGE_DIR.parent / "msg"
    if source.is_dir():
        return source
    import sys

    candidates = [Path(sys.prefix), PACKAGE_DIR.parents[3]]
    for prefix in candidates:
        installed = prefix / "share" / "inspection_nodes" / "msg"
        if installed.is_dir():
            return installed
    raise FileNotFoundError(
        f"msg/ not found next to the package ({source}) or in share/inspection_nodes/msg of "
        + " or ".join(str(c) for c in candidates)
    )


@lru_cache(maxsize=1)
def cell_typestore() -> Typestore:
    """ROS 2 kilted standard types plus every inspection_msgs message."""
    store = get_typestore(Stores.ROS2_KILTED)
    types: dict = {}
    for path in sorted(msg_dir().glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"{INTERFACE_PACKAGE}/msg/{path.stem}"))
    store.register(types)
    return store


def image_from_rosbags(msg) -> np.ndarray:
    """(H, W, C) array of a rosbags-deserialised sensor_msgs/Image."""
    return image_array(
        msg.data, msg.height, msg.width, msg.encoding, msg.step, bool(msg.is_bigendian)
    )


def read_images(path: Path, topic: str) -> Iterator[tuple[int, np.ndarray | str]]:
    """(index, BGR pixels or an error string) for every Image on `topic`, in bag order."""
    import cv2
    from rosbags.highlevel import AnyReader

    from inspection_nodes.core.io.image_encoding import to_rgb8

    with AnyReader([path], default_typestore=cell_typestore()) as reader:
        connections = [c for c in reader.connections if c.topic == topic]
        if not connections:
            topics = ", ".join(sorted({c.topic for c in reader.connections}))
            raise FileNotFoundError(f"bag {path} has no topic {topic!r} (topics: {topics})")
        for index, (conn, _t, raw) in enumerate(reader.messages(connections=connections)):
            try:
                msg = reader.deserialize(raw, conn.msgtype)
                rgb = to_rgb8(image_from_rosbags(msg), msg.encoding)
                yield index, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
            except (ImageFormatError, ValueError) as exc:
                yield index, f"bag message {index} unusable: {exc}"


class BagRecorder:
    """Writes already-serialised messages (as rclpy delivers them with raw=True) to MCAP."""

    def __init__(self, path: Path) -> None:
        from rosbags.rosbag2 import StoragePlugin, Writer

        if path.exists():
            raise FileExistsError(f"bag {path} exists; choose a new path")
        self._writer = Writer(path, version=9, storage_plugin=StoragePlugin.MCAP)
        self._writer.open()
        self._connections: dict[str, object] = {}
        self.counts: dict[str, int] = {}

    def add_topic(self, topic: str, msgtype: str) -> None:
        """msgtype like 'sensor_msgs/msg/Image'; topics are stored absolute ('/verdict')."""
        name = topic if topic.startswith("/") else f"/{topic}"
        self._connections[topic] = self._writer.add_connection(
            name, msgtype, typestore=cell_typestore()
        )
        self.counts[topic] = 0

    def write(self, topic: str, stamp_ns: int, raw: bytes) -> None:
        self._writer.write(self._connections[topic], stamp_ns, raw)
        self.counts[topic] += 1

    def close(self) -> None:
        self._writer.close()


def read_messages(path: Path, topic: str) -> list:
    """Every message of `topic` (absolute or relative name), deserialised, in bag order."""
    from rosbags.highlevel import AnyReader

    name = topic if topic.startswith("/") else f"/{topic}"
    with AnyReader([path], default_typestore=cell_typestore()) as reader:
        connections = [c for c in reader.connections if c.topic == name]
        return [
            reader.deserialize(raw, c.msgtype)
            for c, _t, raw in reader.messages(connections=connections)
        ]
