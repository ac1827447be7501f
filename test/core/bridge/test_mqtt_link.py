"""MqttLink against a real mosquitto on loopback: drains the outbox in order, deletes only on
PUBACK, survives outages and restarts, delivers commands; settings and the health line."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from helpers.outbox import fill
from helpers.waiting import wait_for

from inspection_nodes.core.bridge.mqtt_link import MqttLink, MqttSettings, bridge_status
from inspection_nodes.core.bridge.outbox import Outbox
from inspection_nodes.core.common.health import HealthLevel
from inspection_nodes.loopback.mosquitto import CountingSubscriber, Mosquitto, mosquitto_binary


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
    fill(box, 300)
    link = _link(box.path, broker.port, max_inflight=20)
    try:
        assert wait_for(lambda: box.depth() == 0 and len(sub.snapshot()) >= 300)
        assert sub.snapshot() == [f"m{i:05d}" for i in range(300)]
    finally:
        link.stop()
        sub.close()


def test_rows_stay_until_the_broker_acknowledges(tmp_path: Path, broker: Mosquitto) -> None:
    box = Outbox(tmp_path / "o.db")
    link = _link(box.path, broker.port)
    try:
        assert wait_for(lambda: link.connected)
        os.kill(broker.proc.pid, signal.SIGSTOP)  # accepts bytes, sends no PUBACK
        fill(box, 50)
        assert wait_for(lambda: link.counters.get("published") >= 50)
        time.sleep(0.3)
        assert box.depth() == 50
        os.kill(broker.proc.pid, signal.SIGCONT)
        assert wait_for(lambda: box.depth() == 0)
    finally:
        os.kill(broker.proc.pid, signal.SIGCONT)
        link.stop()


def test_outage_and_link_restart_lose_nothing(tmp_path: Path, broker: Mosquitto) -> None:
    sub = CountingSubscriber(broker.port, "cell/#", "t-sub-outage")
    box = Outbox(tmp_path / "o.db")
    link = _link(box.path, broker.port)
    try:
        fill(box, 100)
        assert wait_for(lambda: box.depth() == 0)
        broker.stop()
        fill(box, 100, start=100)  # queued while the broker is down
        link.stop()
        assert box.depth() == 100
        broker.start()
        link = _link(box.path, broker.port)  # a restarted bridge picks the queue up
        ok = wait_for(lambda: len(set(sub.snapshot())) == 200, timeout_s=20)
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


def test_commands_reach_the_handler_and_a_failing_handler_is_counted(
    tmp_path: Path, broker: Mosquitto
) -> None:
    got: list[tuple[str, bytes]] = []

    def handler(topic: str, payload: bytes) -> None:
        if payload == b"boom":
            raise RuntimeError("boom")
        got.append((topic, payload))

    settings = MqttSettings(port=broker.port, backoff_initial_s=0.1, backoff_max_s=0.5)
    link = MqttLink(Outbox(tmp_path / "o.db").path, settings, ("cell/cmd",), handler)
    link.start()
    sender = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="t-sender")
    sender.connect("127.0.0.1", broker.port)
    sender.loop_start()
    try:
        assert wait_for(lambda: link.connected)
        sender.publish("cell/cmd", b"hold", qos=1).wait_for_publish(5)
        sender.publish("cell/cmd", b"boom", qos=1).wait_for_publish(5)
        assert wait_for(lambda: link.counters.get("messages_in") == 2)
        assert got == [("cell/cmd", b"hold")]
        assert link.counters.get("message_handler_errors") == 1 and "boom" in link.last_error
    finally:
        sender.disconnect()
        sender.loop_stop()
        link.stop()


def test_the_health_line_warns_offline_or_after_drops():
    assert bridge_status(True, "", 3, 0) == (
        HealthLevel.OK,
        "mqtt connected; outbox 3 queued, 0 dropped",
    )
    level, text = bridge_status(False, "connect refused", 10, 0)
    assert level is HealthLevel.WARN and "offline (connect refused)" in text
    assert bridge_status(True, "", 0, 5)[0] is HealthLevel.WARN
