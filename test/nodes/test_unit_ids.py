"""A node that sees only images learns unit ids from camera/unit (real rclpy)."""

import rclpy
from helpers.ros import executor_of, spin_until

from inspection_msgs.msg import CaptureEvent
from inspection_nodes.nodes.convert import ns_to_stamp
from inspection_nodes.nodes.qos import RESULT_QOS
from inspection_nodes.nodes.unit_ids import follow_unit_ids


def test_capture_events_fill_the_table(ros_context):
    node = rclpy.create_node("stage", context=ros_context)
    probe = rclpy.create_node("camera", context=ros_context)
    executor = executor_of(ros_context, node, probe)
    try:
        table = follow_unit_ids(node)
        pub = probe.create_publisher(CaptureEvent, "camera/unit", RESULT_QOS)
        pub.publish(CaptureEvent(header=probe_header(42), unit_id="u000042"))
        assert spin_until(executor, lambda: table.get(42) == "u000042")
        assert table.get(43) == ""
    finally:
        node.destroy_node()
        probe.destroy_node()


def probe_header(stamp_ns: int):
    from std_msgs.msg import Header

    return Header(stamp=ns_to_stamp(stamp_ns))
