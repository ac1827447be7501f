"""Recording the cell's topics to MCAP from inside a node: raw CDR in, rosbags reads it back."""

from pathlib import Path

import rclpy
from helpers.ros import spin_until
from rclpy.executors import SingleThreadedExecutor

from inspection_msgs.msg import Verdict
from inspection_nodes.core.io.bags import read_messages
from inspection_nodes.nodes.bag_recording import RECORDED, start_recording
from inspection_nodes.nodes.qos import RESULT_QOS


def test_recorded_topics_read_back_with_rosbags(ros_context, tmp_path: Path):
    node = rclpy.create_node("recorder_probe", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    path = tmp_path / "bags" / "run.mcap"
    try:
        recorder, subscriptions = start_recording(node, path)
        assert len(subscriptions) == len(RECORDED)
        pub = node.create_publisher(Verdict, "verdict", RESULT_QOS)
        assert spin_until(executor, lambda: pub.get_subscription_count() > 0)
        for i in range(3):
            pub.publish(Verdict(unit_id=f"u{i}", decision=Verdict.PASS))
        spin_until(executor, lambda: False, 0.5)
        recorder.close()
    finally:
        node.destroy_node()
    messages = read_messages(path, "/verdict")
    assert [m.unit_id for m in messages] == ["u0", "u1", "u2"]
