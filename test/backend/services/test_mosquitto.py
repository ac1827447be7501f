"""The embedded broker with users and the plant ACL: a cell writes only under its own id and
never `cmd`; only the backend writes commands; anonymous clients are refused."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
import pytest

from inspection_backend.services.mosquitto import EmbeddedBroker, acl_text, mosquitto_binary

pytestmark = pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto not installed")
USERS = {"backend": "backend-secret", "cell-1": "cell-1-secret", "cell-2": "cell-2-secret"}


def client(port: int, user: str | None, name: str) -> tuple[mqtt.Client, list, threading.Event]:
    got: list = []
    ready = threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
    if user:
        c.username_pw_set(user, USERS[user])
    c.on_connect = lambda *_a: ready.set()
    c.on_message = lambda _c, _u, msg: got.append(msg.topic)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c, got, ready


def test_acl_confines_each_client(tmp_path):
    acl = acl_text("backend", {"cell-1": "cell-1", "cell-2": "cell-2"})
    with EmbeddedBroker(tmp_path, users=USERS, acl=acl) as broker:
        backend, backend_got, ready_b = client(broker.port, "backend", "b")
        cell1, cell1_got, ready_1 = client(broker.port, "cell-1", "c1")
        assert ready_b.wait(5) and ready_1.wait(5)
        backend.subscribe("inspection/#", qos=1)
        cell1.subscribe("inspection/+/cmd", qos=1)
        time.sleep(0.3)
        cell1.publish("inspection/cell-1/verdict", b"{}", qos=1).wait_for_publish(5)
        cell1.publish("inspection/cell-2/verdict", b"{}", qos=1).wait_for_publish(5)
        cell1.publish("inspection/cell-1/cmd", b"{}", qos=1).wait_for_publish(5)
        backend.publish("inspection/cell-1/cmd", b"{}", qos=1).wait_for_publish(5)
        backend.publish("inspection/cell-2/cmd", b"{}", qos=1).wait_for_publish(5)
        time.sleep(0.5)
        assert sorted(backend_got) == [
            "inspection/cell-1/cmd",
            "inspection/cell-1/verdict",
            "inspection/cell-2/cmd",
        ]
        assert cell1_got == ["inspection/cell-1/cmd"]  # it cannot read cell-2's commands
        anonymous, _got, _ready = client(broker.port, None, "anon")
        time.sleep(0.5)
        assert not anonymous.is_connected()
        for c in (backend, cell1, anonymous):
            c.loop_stop()
            c.disconnect()
