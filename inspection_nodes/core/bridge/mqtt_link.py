"""MQTT side of the bridge: drains the durable outbox to the broker at QoS 1, in order, and
hands incoming command messages to a callback.

One thread owns the network. Each connection uses a fresh paho client with a clean session, so a
connection's in-flight window dies with it: after a reconnect the drain starts again from the
oldest message not yet acknowledged. That keeps the order, and the only failure mode is a
duplicate (a PUBACK lost with the connection), which the receiver drops by message id. Rows are
deleted only in `on_publish`, i.e. on the broker's PUBACK. Reconnects back off exponentially.
"""

from __future__ import annotations

import collections
import contextlib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import paho.mqtt.client as mqtt

from inspection_nodes.core.bridge.outbox import Outbox
from inspection_nodes.core.common.counters import EventCounters
from inspection_nodes.core.common.health import HealthLevel


class LinkCounter(StrEnum):
    """What MqttLink counts (the bridge node reports them with its own)."""

    CONNECTS = "connects"
    RECONNECT_WAITS = "reconnect_waits"
    PUBLISHED = "published"
    ACKED = "acked"
    DRAIN_ERRORS = "drain_errors"
    MESSAGES_IN = "messages_in"
    MESSAGE_HANDLER_ERRORS = "message_handler_errors"


@dataclass(frozen=True)
class MqttSettings:
    """Broker address, credentials, TLS and drain tuning; validated on construction."""

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = ""
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    keepalive_s: int = 30
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 10.0
    max_inflight: int = 100

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ValueError(f"mqtt port must be 1..65535, got {self.port}")
        if not 0 < self.backoff_initial_s <= self.backoff_max_s:
            raise ValueError("need 0 < backoff_initial_s <= backoff_max_s")
        if not 1 <= self.max_inflight <= 65535:
            raise ValueError(f"max_inflight must be 1..65535, got {self.max_inflight}")
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("TLS client auth needs both cert_file and key_file")
        for name in ("ca_file", "cert_file", "key_file"):
            value = getattr(self, name)
            if value and not self.tls:
                raise ValueError(f"{name} is set but tls is false")
            if value and not Path(value).is_file():
                raise ValueError(f"{name} {value!r} does not exist")


class MqttLink:
    """Background drain of an outbox file to MQTT plus command subscriptions."""

    def __init__(
        self,
        outbox_path: Path,
        settings: MqttSettings,
        subscriptions: tuple[str, ...] = (),
        on_message: Callable[[str, bytes], None] | None = None,
        counters: EventCounters | None = None,
    ) -> None:
        self._outbox_path = Path(outbox_path)
        self._settings = settings
        self._subscriptions = subscriptions
        self._on_message = on_message
        self._acks: collections.deque[int] = collections.deque()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mqtt-link", daemon=True)
        self.counters = counters if counters is not None else EventCounters(LinkCounter)
        self.connected = False
        self.last_error = ""

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout_s)

    def notify(self) -> None:
        """Tell the drain that a new message is queued (saves up to one poll interval)."""
        self._wake.set()

    def _run(self) -> None:
        outbox = Outbox(self._outbox_path)
        backoff = self._settings.backoff_initial_s
        try:
            while not self._stop.is_set():
                try:
                    connected = self._session(outbox)
                except Exception as exc:  # e.g. a disk error: report, back off, try again
                    self.counters.inc(LinkCounter.DRAIN_ERRORS)
                    self.last_error = f"drain failed: {exc}"
                    connected = False
                if connected:
                    backoff = self._settings.backoff_initial_s
                else:
                    backoff = min(backoff * 2, self._settings.backoff_max_s)
                if not self._stop.is_set():
                    self.counters.inc(LinkCounter.RECONNECT_WAITS)
                    self._stop.wait(backoff)
        finally:
            outbox.close()

    def _client(self, connected: threading.Event, lost: threading.Event) -> mqtt.Client:
        s = self._settings
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=s.client_id,
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        client.max_inflight_messages_set(s.max_inflight)
        if s.username:
            client.username_pw_set(s.username, s.password or None)
        if s.tls:
            client.tls_set(
                ca_certs=s.ca_file or None,
                certfile=s.cert_file or None,
                keyfile=s.key_file or None,
            )

        def on_connect(_c, _u, _flags, reason, _props) -> None:
            (lost if reason.is_failure else connected).set()
            if reason.is_failure:
                self.last_error = f"broker refused connection: {reason}"

        def on_disconnect(_c, _u, _flags, reason, _props) -> None:
            self.last_error = f"disconnected: {reason}"
            lost.set()
            self._wake.set()

        def on_publish(_c, _u, mid, _reason, _props) -> None:
            self._acks.append(mid)
            self._wake.set()

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_publish = on_publish
        client.on_message = self._deliver
        return client

    def _deliver(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        """paho callback: hand a command on; a failing handler is counted, never raised."""
        self.counters.inc(LinkCounter.MESSAGES_IN)
        if self._on_message is None:
            return
        try:
            self._on_message(message.topic, message.payload)
        except Exception as exc:  # a callback must not kill the network thread
            self.counters.inc(LinkCounter.MESSAGE_HANDLER_ERRORS)
            self.last_error = f"command handler failed: {exc}"

    def _session(self, outbox: Outbox) -> bool:
        """One connection: publish in seq order, delete on PUBACK; returns whether it connected."""
        connected, lost = threading.Event(), threading.Event()
        client = self._client(connected, lost)
        try:
            client.connect(self._settings.host, self._settings.port, self._settings.keepalive_s)
        except (OSError, ssl.SSLError, ValueError) as exc:
            self.last_error = f"connect to {self._settings.host}:{self._settings.port}: {exc}"
            return False
        client.loop_start()
        try:
            deadline = time.monotonic() + 10.0
            while not (connected.is_set() or lost.is_set() or self._stop.is_set()):
                if time.monotonic() > deadline:
                    self.last_error = "no CONNACK within 10 s"
                    return False
                connected.wait(0.05)
            if not connected.is_set():
                return False
            if not self._subscribe(client, lost):
                return False
            self.connected = True  # and subscribed: a command sent from now on is received
            self.counters.inc(LinkCounter.CONNECTS)
            self._drain(client, outbox, lost)
            return True
        finally:
            self.connected = False
            client.disconnect()
            client.loop_stop()
            self._acks.clear()  # acks of a dead session: those rows are re-sent (duplicates)

    def _subscribe(self, client: mqtt.Client, lost: threading.Event) -> bool:
        """Subscribe to the command topics and wait for every SUBACK (10 s at most)."""
        acked: set[int] = set()
        client.on_subscribe = lambda _c, _u, mid, _codes, _props: acked.add(mid)
        sent = {client.subscribe(topic, qos=1)[1] for topic in self._subscriptions}
        deadline = time.monotonic() + 10.0
        while not sent <= acked:
            if lost.is_set() or self._stop.is_set():
                return False
            if time.monotonic() > deadline:
                self.last_error = "no SUBACK within 10 s"
                return False
            lost.wait(0.02)
        return True

    def _drain(self, client: mqtt.Client, outbox: Outbox, lost: threading.Event) -> None:
        pending: dict[int, int] = {}  # mid -> outbox seq
        cursor = 0
        while not (self._stop.is_set() or lost.is_set()):
            free = self._settings.max_inflight - len(pending)
            batch = outbox.after(cursor, free) if free > 0 else []
            for message in batch:
                info = client.publish(message.topic, message.payload, qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    self.last_error = f"publish failed: {mqtt.error_string(info.rc)}"
                    return
                pending[info.mid] = message.seq
                cursor = message.seq
                self.counters.inc(LinkCounter.PUBLISHED)
            acked = []
            while self._acks:
                seq = pending.pop(self._acks.popleft(), None)
                if seq is not None:
                    acked.append(seq)
            outbox.ack(acked)
            self.counters.inc(LinkCounter.ACKED, len(acked))
            if not batch and not acked:
                self._wake.wait(0.05)
                self._wake.clear()


def bridge_status(
    connected: bool, last_error: str, depth: int, dropped: int
) -> tuple[HealthLevel, str]:
    """The bridge's health line: WARN while offline or once messages were dropped (the outbox
    overflowed), with the queue depth either way."""
    level = HealthLevel.OK if connected and not dropped else HealthLevel.WARN
    state = "connected" if connected else f"offline ({last_error})"
    return level, f"mqtt {state}; outbox {depth} queued, {dropped} dropped"


def main(argv: list[str] | None = None) -> int:
    """Standalone drain worker (`python -m inspection_nodes.core.bridge.mqtt_link`): publishes an
    outbox that another process fills; the bridge benchmark kills and restarts it to prove
    recovery."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--outbox", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--backoff-max-s", type=float, default=2.0)
    args = parser.parse_args(argv)
    settings = MqttSettings(host=args.host, port=args.port, backoff_max_s=args.backoff_max_s)
    link = MqttLink(args.outbox, settings)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    link.start()
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    link.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
