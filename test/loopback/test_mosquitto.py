"""The throw-away loopback broker: starts on a free port, keeps it across restarts, keeps
persistent sessions over a restart, and the counting subscriber sees ids in order."""

from __future__ import annotations

import json
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from helpers.waiting import wait_for

from inspection_nodes.loopback.mosquitto import CountingSubscriber, Mosquitto, mosquitto_binary

pytestmark = pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto not installed")


def _publish(port: int, ids: list[str]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="t-pub")
    client.connect("127.0.0.1", port)
    client.loop_start()
    for msg_id in ids:
        client.publish("t/x", json.dumps({"id": msg_id}), qos=1).wait_for_publish(5)
    client.publish("t/x", b"not json", qos=1).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def test_broker_restarts_on_the_same_port_and_keeps_sessions(tmp_path: Path):
    with Mosquitto(tmp_path / "broker") as broker:
        port = broker.port
        sub = CountingSubscriber(port, "t/#", "t-counter")
        try:
            assert wait_for(lambda: broker.proc.poll() is None)
            time.sleep(0.3)  # the subscription is acknowledged
            _publish(port, ["a", "b"])
            assert wait_for(lambda: sub.snapshot() == ["a", "b", "<malformed>"])
            broker.stop()
            broker.start()
            assert broker.port == port
            _publish(port, ["c"])
            assert wait_for(lambda: sub.snapshot()[-2:] == ["c", "<malformed>"])
        finally:
            sub.close()
    assert broker.proc.poll() is not None  # stopped on exit
    assert (tmp_path / "broker" / "mosquitto.conf").read_text().startswith(f"listener {port}")
