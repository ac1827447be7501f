"""One settings object for the whole backend, read from the environment (CLI flags override).

Empty DATABASE_URL / MQTT_URL mean the embedded defaults: a PostgreSQL cluster and a mosquitto
broker of the backend's own under DATA_DIR, on loopback. The README's configuration table
(docs/backend.md) is generated from FIELDS, so every setting is documented in one place.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class MqttSettings:
    host: str
    port: int
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""

    @classmethod
    def from_url(cls, url: str, **extra: str | bool) -> MqttSettings:
        """`mqtt://user:pass@host:1883` or `mqtts://host:8883` (TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"MQTT_URL {url!r}: expected mqtt://host:port or mqtts://host:port")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            username=parts.username or str(extra.get("username", "")),
            password=parts.password or str(extra.get("password", "")),
            tls=tls,
            ca_file=str(extra.get("ca_file", "")),
            cert_file=str(extra.get("cert_file", "")),
            key_file=str(extra.get("key_file", "")),
        )


@dataclass(frozen=True)
class Settings:
    """Field metadata: (environment variable, description)."""

    database_url: str = ""
    data_dir: Path = Path("out/backend")
    pg_port: int = 0
    pg_run_as: str = "nobody"
    mqtt_url: str = ""
    mqtt_username: str = ""
    mqtt_password: str = ""
    mqtt_ca_file: str = ""
    mqtt_cert_file: str = ""
    mqtt_key_file: str = ""
    mqtt_shared_group: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    plant_config: Path = Path("config/backend/plant.yaml")
    command_key: Path = Path()
    command_key_id: str = "backend"
    executor_id: str = ""
    mes_url: str = ""
    qms_url: str = ""
    erp_url: str = ""
    notify_url: str = ""
    role: str = "all"
    executor_dead_after_s: float = 30.0
    ingest_batch: int = 500
    ingest_batch_ms: int = 20
    session_hours: float = 12.0
    cookie_secure: bool = False

    @property
    def executor(self) -> str:
        """DBOS executor id: stable per process slot, so a restarted process recovers its own
        workflows (a different host default keeps two machines apart)."""
        return self.executor_id or f"{socket.gethostname()}-1"

    @property
    def command_key_path(self) -> Path:
        return (
            self.command_key
            if str(self.command_key) not in ("", ".")
            else (self.data_dir / "command_key.pem")
        )

    @property
    def mqtt_client_id(self) -> str:
        return f"inspection-backend-{self.executor}"

    def mqtt(self, embedded_port: int | None = None) -> MqttSettings:
        extra = {
            "username": self.mqtt_username,
            "password": self.mqtt_password,
            "ca_file": self.mqtt_ca_file,
            "cert_file": self.mqtt_cert_file,
            "key_file": self.mqtt_key_file,
        }
        if self.mqtt_url:
            return MqttSettings.from_url(self.mqtt_url, **extra)
        if embedded_port is None:
            raise ValueError("no MQTT_URL and no embedded broker")
        return MqttSettings("127.0.0.1", embedded_port, self.mqtt_username, self.mqtt_password)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read `<FIELD NAME IN CAPITALS>` variables; keyword overrides (CLI flags) win."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, raw, type(getattr(DEFAULTS, f.name)))
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = replace(DEFAULTS, **values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if not 0 <= self.pg_port <= 65535 or not 0 <= self.http_port <= 65535:
            raise ValueError("ports must be 0..65535 (0: pick a free one)")
        if self.role not in ("all", "ingest", "workflows"):
            raise ValueError(f"ROLE={self.role!r}: one of all, ingest, workflows")
        if self.ingest_batch < 1 or self.ingest_batch_ms < 1:
            raise ValueError("INGEST_BATCH and INGEST_BATCH_MS must be >= 1")
        if bool(self.mqtt_cert_file) != bool(self.mqtt_key_file):
            raise ValueError("MQTT TLS client auth needs both MQTT_CERT_FILE and MQTT_KEY_FILE")
        if self.mqtt_url:
            MqttSettings.from_url(self.mqtt_url)


DEFAULTS = Settings()

DESCRIPTIONS: dict[str, str] = {
    "database_url": "PostgreSQL URL (postgresql+psycopg://...); empty: embedded cluster",
    "data_dir": "embedded PostgreSQL/mosquitto data and the command key live here",
    "pg_port": "port of the embedded PostgreSQL (0: free port, remembered)",
    "pg_run_as": "user that owns and runs the embedded cluster when started as root",
    "mqtt_url": "broker, mqtt://user:pass@host:1883 or mqtts://host:8883; empty: embedded",
    "mqtt_username": "MQTT user (if not in the URL)",
    "mqtt_password": "MQTT password (if not in the URL)",
    "mqtt_ca_file": "CA bundle for mqtts://",
    "mqtt_cert_file": "client certificate for TLS client auth",
    "mqtt_key_file": "client key for TLS client auth",
    "mqtt_shared_group": "subscribe as $share/<group>/... so several backends split ingest",
    "http_host": "address of the web page (loopback by default)",
    "http_port": "port of the web page (0: free port)",
    "plant_config": "plant YAML: lines, cells, stations, shifts (routing/<station>.yaml beside)",
    "command_key": "Ed25519 PKCS8 PEM key that signs commands (default DATA_DIR/command_key.pem)",
    "command_key_id": "issued_by and key_id of signed commands",
    "executor_id": "DBOS executor id of this process (default <hostname>-1)",
    "mes_url": "MES REST base URL (hold, release, rework); empty: not called",
    "qms_url": "QMS REST base URL (NCRs); empty: not called",
    "erp_url": "ERP REST base URL (scrap cost); empty: not called",
    "notify_url": "notifier webhook URL (chat/SMS gateway); empty: not called",
    "role": "all | ingest | workflows: the parts this process runs",
    "executor_dead_after_s": "another process takes over an executor silent this long",
    "ingest_batch": "most messages written per ingest transaction",
    "ingest_batch_ms": "longest wait to fill an ingest batch",
    "session_hours": "web session lifetime",
    "cookie_secure": "mark the session cookie Secure (behind HTTPS)",
}


def _convert(name: str, raw: str, kind: type) -> object:
    try:
        if kind is bool:
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes")
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if issubclass(kind, Path):
            return Path(raw)
        return raw
    except ValueError:
        raise ValueError(f"{name.upper()}={raw!r} is not a valid {kind.__name__}") from None
