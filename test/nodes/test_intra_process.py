"""In-process delivery rules (pure logic, a stand-in publisher): local handlers first, DDS
only while another process listens, nothing lost when nobody is local."""

from inspection_nodes.nodes.intra_process import IntraProcess, consumed_in_process


class FakePublisher:
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
    assert consumed_in_process(FakePublisher.topic_name)
    assert not consumed_in_process("/t/nobody_here")
