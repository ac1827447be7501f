"""Subscribes camera/unit and fills a UnitIdTable for the node that owns it."""

from __future__ import annotations

from rclpy.node import Node

from inspection_msgs.msg import CaptureEvent
from inspection_nodes.core.io.unit_ids import UnitIdTable
from inspection_nodes.nodes.convert import stamp_to_ns
from inspection_nodes.nodes.qos import RESULT_QOS


def follow_unit_ids(node: Node) -> UnitIdTable:
    table = UnitIdTable()
    node.create_subscription(
        CaptureEvent,
        "camera/unit",
        lambda msg: table.add(stamp_to_ns(msg.header.stamp), msg.unit_id),
        RESULT_QOS,
    )
    return table
