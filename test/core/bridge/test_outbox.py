"""Outbox: ordering, idempotent ids, overflow accounting, ack handling and restart recovery, the
MQTT parts against a real mosquitto on loopback."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from inspection_nodes.core.bridge.mqtt_link import MqttLink, MqttSettings
from inspection_nodes.core.bridge.outbox import Outbox
from inspection_nodes.loopback.mosquitto import CountingSubscriber, Mosquitto, mosquitto_binary


def _payload(i: int) -> bytes:
    return json.dumps({"id": f"m{i:05d}", "i": i}).encode()


def _fill(outbox: Outbox, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        outbox.put(f"m{i:05d}", "cell/test/verdict", _payload(i))


def _wait(predicate, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_put_is_ordered_and_idempotent(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    _fill(box, 5)
    assert not box.put("m00002", "t", b"again")
    assert [m.msg_id for m in box.after(0, 10)] == [f"m{i:05d}" for i in range(5)]
    second = box.after(0, 10)[1].seq
    assert [m.msg_id for m in box.after(second, 2)] == ["m00002", "m00003"]


def test_ack_out_of_order_and_survive_reopen(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    _fill(box, 4)
    seqs = [m.seq for m in box.after(0, 10)]
    box.ack([seqs[2], seqs[0]])
    box.close()
    again = Outbox(tmp_path / "o.db")
    assert [m.msg_id for m in again.after(0, 10)] == ["m00001", "m00003"]


def test_overflow_drops_oldest_and_counts(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_messages=3)
    _fill(box, 5)
    assert [m.msg_id for m in box.after(0, 10)] == ["m00002", "m00003", "m00004"]
    assert box.dropped() == 2


@pytest.fixture
def broker(tmp_path: Path):
    if mosquitto_binary() is None:
        pytest.skip("mosquitto not installed (apt-get install mosquitto)")
    with Mosquitto(tmp_path / "broker") as mosq:
        yield mosq


def _link(path: Path, port: int, **kw) -> MqttLink:
    settings = MqttSettings(port=port, backoff_initial_s=0.1, backoff_max_s=0.5, **kw)
    link = MqttLink(path, settings)
    link.start()
    return link


def test_drains_in_order_and_deletes_on_puback(tmp_path: Path, broker: Mosquitto) -> None:
    sub = CountingSubscriber(broker.port, "cell/#", "t-sub-order")
    box = Outbox(tmp_path / "o.db")
    _fill(box, 300)
    link = _link(box.path, broker.port, max_inflight=20)
    try:
        assert _wait(lambda: box.depth() == 0 and len(sub.snapshot()) >= 300)
        assert sub.snapshot() == [f"m{i:05d}" for i in range(300)]
    finally:
        link.stop()
        sub.close()


def test_rows_stay_until_the_broker_acknowledges(tmp_path: Path, broker: Mosquitto) -> None:
    box = Outbox(tmp_path / "o.db")
    link = _link(box.path, broker.port)
    try:
        assert _wait(lambda: link.connected)
        os.kill(broker.proc.pid, signal.SIGSTOP)  # accepts bytes, sends no PUBACK
        _fill(box, 50)
        assert _wait(lambda: link.counters.get("published") >= 50)
        time.sleep(0.3)
        assert box.depth() == 50
        os.kill(broker.proc.pid, signal.SIGCONT)
        assert _wait(lambda: box.depth() == 0)
    finally:
        os.kill(broker.proc.pid, signal.SIGCONT)
        link.stop()


def test_outage_and_link_restart_lose_nothing(tmp_path: Path, broker: Mosquitto) -> None:
    sub = CountingSubscriber(broker.port, "cell/#", "t-sub-outage")
    box = Outbox(tmp_path / "o.db")
    link = _link(box.path, broker.port)
    try:
        _fill(box, 100)
        assert _wait(lambda: box.depth() == 0)
        broker.stop()
        _fill(box, 100, start=100)  # queued while the broker is down
        link.stop()
        assert box.depth() == 100
        broker.start()
        link = _link(box.path, broker.port)  # a restarted bridge picks the queue up
        ok = _wait(lambda: len(set(sub.snapshot())) == 200, timeout_s=20)
        assert ok, (len(set(sub.snapshot())), box.depth(), link.last_error, link.connected)
        ids = sub.snapshot()
        assert sorted(set(ids)) == [f"m{i:05d}" for i in range(200)]
        firsts = list(dict.fromkeys(ids))
        assert firsts == sorted(firsts), "first deliveries must keep the outbox order"
    finally:
        link.stop()
        sub.close()


def test_settings_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="port"):
        MqttSettings(port=0)
    with pytest.raises(ValueError, match="tls is false"):
        MqttSettings(ca_file=str(tmp_path))
    with pytest.raises(ValueError, match="both cert_file and key_file"):
        MqttSettings(tls=True, cert_file="x")
