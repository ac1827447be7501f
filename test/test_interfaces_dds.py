"""Every custom message crosses real DDS to another process and back with its content intact."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import rclpy
from helpers.messages import custom_message_types, filled
from helpers.ros import Collector, spin_until
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy

ECHO = Path(__file__).resolve().parent / "helpers" / "echo_node.py"


def test_every_message_type_round_trips_between_processes(ros_context):
    echo = subprocess.Popen([sys.executable, str(ECHO)], stdout=subprocess.PIPE, text=True)
    try:
        assert echo.stdout.readline().strip() == "ready"
        node = rclpy.create_node("roundtrip", context=ros_context)
        executor = SingleThreadedExecutor(context=ros_context)
        executor.add_node(node)
        qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        types = custom_message_types()
        assert len(types) >= 10
        pubs, received = {}, {}
        for cls in types:
            received[cls.__name__] = Collector()
            node.create_subscription(cls, f"out/{cls.__name__}", received[cls.__name__], qos)
            pubs[cls.__name__] = node.create_publisher(cls, f"in/{cls.__name__}", qos)
        assert spin_until(
            executor,
            lambda: (
                all(p.get_subscription_count() > 0 for p in pubs.values())
                and all(node.count_publishers(f"out/{c.__name__}") > 0 for c in types)
            ),
            15.0,
        )
        sent = {cls.__name__: filled(cls, seed=5) for cls in types}
        for name, msg in sent.items():
            assert msg != type(msg)(), f"{name} filler left every field at its default"
            pubs[name].publish(msg)
        assert spin_until(executor, lambda: all(c.messages for c in received.values()), 15.0), [
            n for n, c in received.items() if not c.messages
        ]
        for name, msg in sent.items():
            assert received[name].messages[0] == msg, name
        node.destroy_node()
    finally:
        echo.send_signal(signal.SIGINT)
        echo.wait(timeout=10)
