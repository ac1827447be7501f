"""A separate process that echoes every inspection_msgs message: `in/<Type>` -> `out/<Type>`.

Run as a script by test_interfaces_dds.py so the round trip crosses real DDS between processes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.qos import QoSProfile, ReliabilityPolicy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.messages import custom_message_types


def main() -> None:
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    try:
        with rclpy.init():
            node = rclpy.create_node("echo")
            for cls in custom_message_types():
                pub = node.create_publisher(cls, f"out/{cls.__name__}", qos)
                node.create_subscription(cls, f"in/{cls.__name__}", pub.publish, qos)
            print("ready", flush=True)
            rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == "__main__":
    main()
