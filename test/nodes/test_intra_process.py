"""In-process delivery: local handlers first, DDS only while another process listens, nothing
lost when nobody is local; the IntraProcessNode mixin on real rclpy nodes."""

import pytest
from rclpy.node import Node
from std_msgs.msg import String

from inspection_nodes.nodes.intra_process import IntraProcess, IntraProcessNode
from inspection_nodes.nodes.qos import RESULT_QOS


class FakePublisher:
    """A publisher's two methods IntraProcess uses, with a chosen remote subscriber count."""

    topic_name = "/t/intra_process_test"

    def __init__(self, remote_subscribers: int) -> None:
        self.remote_subscribers = remote_subscribers
        self.sent: list = []

    def get_subscription_count(self) -> int:
        return self.remote_subscribers

    def publish(self, msg) -> None:
        self.sent.append(msg)


def test_without_local_handlers_every_message_goes_to_dds():
    publisher = FakePublisher(remote_subscribers=0)
    IntraProcess().publish(publisher, "m")
    assert publisher.sent == ["m"]


def test_local_handlers_run_in_order_before_dds_and_get_the_same_object():
    calls, msg = [], object()
    intra = IntraProcess()
    intra.connect(FakePublisher.topic_name, lambda m: calls.append(("a", m)))
    intra.connect(FakePublisher.topic_name, lambda m: calls.append(("b", m)))
    alone, watched = FakePublisher(0), FakePublisher(2)
    intra.publish(alone, msg)
    assert calls == [("a", msg), ("b", msg)] and alone.sent == []
    intra.publish(watched, msg)
    assert watched.sent == [msg] and len(calls) == 4
    assert intra.consumed(FakePublisher.topic_name)
    assert not intra.consumed("/t/nobody_here") and not IntraProcess().consumed("/t/x")


class Consumer(IntraProcessNode, Node):
    INTRA_PROCESS_INPUTS = ("in/text",)

    def __init__(self, **kwargs) -> None:
        super().__init__("consumer", **kwargs)
        self.got: list = []
        self.sub = self.subscribe_input(String, "in/text", self.got.append, RESULT_QOS)

    def intra_process_inputs(self):
        return {"in/text": self.got.append}


def test_a_consumer_subscribes_only_to_inputs_not_handed_over(ros_context):
    over_dds = Consumer(context=ros_context)
    local = Consumer(context=ros_context, local_inputs=("in/text",))
    try:
        assert over_dds.sub is not None and over_dds.count_publishers("in/text") == 0
        assert local.sub is None and local.local_inputs == {"in/text"}
        assert "/in/text" not in {s.topic_name for s in local.subscriptions}
        assert local.intra_process_inputs()["in/text"] == local.got.append
    finally:
        over_dds.destroy_node()
        local.destroy_node()


def test_a_node_refuses_in_process_inputs_it_does_not_declare(ros_context):
    with pytest.raises(ValueError, match=r"cannot take other/topic in-process"):
        Consumer(context=ros_context, local_inputs=("other/topic",))
