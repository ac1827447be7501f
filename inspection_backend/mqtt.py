"""paho-mqtt clients of the backend, built one way: MQTT 5, credentials and TLS from settings."""

from __future__ import annotations

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from inspection_backend.settings import MqttSettings

SESSION_EXPIRY_S = 14 * 24 * 3600  # queued messages wait this long for a backend that is down


def make_client(settings: MqttSettings, client_id: str, manual_ack: bool = False) -> mqtt.Client:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    if settings.username:
        client.username_pw_set(settings.username, settings.password or None)
    if settings.tls:
        client.tls_set(
            ca_certs=settings.ca_file or None,
            certfile=settings.cert_file or None,
            keyfile=settings.key_file or None,
        )
    client.reconnect_delay_set(0.2, 5.0)
    return client


def persistent_session(receive_maximum: int) -> Properties:
    """CONNECT properties of a persistent session: the broker keeps subscriptions and queued QoS 1
    messages while we are away, and sends at most `receive_maximum` unacknowledged at a time."""
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = SESSION_EXPIRY_S
    props.ReceiveMaximum = receive_maximum
    return props
