"""Settings from the environment, flags on top, every field documented, bad values named."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from inspection_backend.settings import DESCRIPTIONS, MqttSettings, Settings


def test_environment_and_overrides():
    settings = Settings.from_env(
        {"HTTP_PORT": "9000", "COOKIE_SECURE": "true", "DATA_DIR": "/srv/x"}, http_port=9100
    )
    assert settings.http_port == 9100 and settings.cookie_secure
    assert settings.data_dir == Path("/srv/x")
    assert settings.command_key_path == Path("/srv/x/command_key.pem")


def test_every_field_is_described():
    assert {f.name for f in fields(Settings)} == set(DESCRIPTIONS)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HTTP_PORT": "eighty"}, "HTTP_PORT='eighty' is not a valid int"),
        ({"COOKIE_SECURE": "maybe"}, "COOKIE_SECURE"),
        ({"MQTT_URL": "http://x"}, "expected mqtt://"),
        ({"MQTT_CERT_FILE": "c.pem"}, "both MQTT_CERT_FILE and MQTT_KEY_FILE"),
        ({"INGEST_BATCH": "0"}, "INGEST_BATCH"),
    ],
)
def test_bad_values_are_named(env, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_mqtt_urls():
    plain = MqttSettings.from_url("mqtt://backend:s3cret@broker.plant:1884")
    assert (plain.host, plain.port, plain.username, plain.password, plain.tls) == (
        "broker.plant", 1884, "backend", "s3cret", False,
    )  # fmt: skip
    tls = Settings.from_env({"MQTT_URL": "mqtts://broker", "MQTT_CA_FILE": "ca.pem"}).mqtt()
    assert (tls.port, tls.tls, tls.ca_file) == (8883, True, "ca.pem")
    embedded = Settings.from_env({}).mqtt(embedded_port=1999)
    assert (embedded.host, embedded.port) == ("127.0.0.1", 1999)
