"""MQTT ingest: QoS 1 on a persistent session, written in batches, acknowledged after COMMIT.

paho delivers messages on its network thread; they are queued and a writer thread takes up to
`batch_size` of them (or what came within `batch_ms`), parses each (`core.messages`), writes the
whole batch in one transaction and only then sends the PUBACKs (manual ack). A crash between
receive and commit therefore leaves the messages unacknowledged in the broker's session, which
delivers them again; the message-id key drops whatever had been written. A database error
keeps the batch and retries it: nothing is acknowledged that is not stored.

An ack is only sent on the connection that delivered the message: after a reconnect the broker
re-sends what was in flight (same packet ids), so acknowledging an old id on the new
connection could confirm a message that has not been written yet.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
import psycopg
import sqlalchemy as sa

from inspection_backend.core.messages import (
    CELL_KINDS,
    PLANT_KINDS,
    Accepted,
    MessageParser,
    Rejected,
    RejectReason,
)
from inspection_backend.db.ingest_store import BatchOutcome, write_batch
from inspection_backend.mqtt import make_client, persistent_session
from inspection_backend.settings import MqttSettings

RECEIVE_MAXIMUM = 2000
# What a bad value raises (class 22 and 23 SQLSTATEs), as opposed to a database that is away.
_DATA_ERRORS = (
    psycopg.errors.DataError,
    psycopg.errors.IntegrityError,
    sa.exc.DataError,
    sa.exc.IntegrityError,
)


def topics(shared_group: str = "") -> list[str]:
    prefix = f"$share/{shared_group}/" if shared_group else ""
    return [f"{prefix}inspection/+/{kind}" for kind in CELL_KINDS] + [
        f"{prefix}plant/+/{kind}" for kind in PLANT_KINDS
    ]


@dataclass
class IngestStats:
    received: int = 0
    batches: int = 0
    inserted: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    db_errors: int = 0
    stale_acks: int = 0
    last_error: str = ""
    connected: bool = False
    subscribed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: BatchOutcome) -> None:
        with self.lock:
            self.batches += 1
            self.inserted += outcome.inserted
            self.duplicates += outcome.duplicates
            self.dead_letters += outcome.dead_letters


@dataclass(frozen=True)
class _Delivery:
    generation: int
    mid: int
    qos: int
    topic: str
    payload: bytes


class IngestConsumer:
    """Subscribe, batch, write, acknowledge; `on_committed` hears about every written batch."""

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        parser: MessageParser,
        engine: sa.Engine,
        on_committed: Callable[[BatchOutcome], None] = lambda _o: None,
        batch_size: int = 500,
        batch_ms: int = 20,
        shared_group: str = "",
    ) -> None:
        self._settings = settings
        self._parser = parser
        self._engine = engine
        self._on_committed = on_committed
        self._batch_size = batch_size
        self._batch_s = batch_ms / 1000.0
        self._topics = topics(shared_group)
        self._queue: deque[_Delivery] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._generation = 0
        self._started = False
        self.stats = IngestStats()
        self._client = make_client(settings, client_id, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._writer = threading.Thread(target=self._write_loop, name="ingest-writer", daemon=True)

    def start(self) -> None:
        self._started = True
        self._writer.start()
        self._client.connect_async(
            self._settings.host,
            self._settings.port,
            keepalive=30,
            clean_start=False,
            properties=persistent_session(RECEIVE_MAXIMUM),
        )
        self._client.loop_start()

    def wait_subscribed(self, timeout_s: float) -> bool:
        """Whether the broker confirmed the subscriptions within timeout_s (on a new session,
        messages published before that are not queued for us)."""
        deadline = time.monotonic() + timeout_s
        while not self.stats.subscribed and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.stats.subscribed

    def stop(self, timeout_s: float = 10.0) -> None:
        """Finish the batch in hand (written and acknowledged), then disconnect."""
        if not self._started:
            return
        self._stop.set()
        self._wake.set()
        self._writer.join(timeout_s)
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client, _userdata, _flags, reason, _props) -> None:
        if reason.is_failure:
            self.stats.last_error = f"broker refused: {reason}"
            return
        self._generation += 1
        self.stats.connected = True
        client.subscribe([(t, 1) for t in self._topics])

    def _on_subscribe(self, _client, _userdata, _mid, _reasons, _props) -> None:
        self.stats.subscribed = True

    def _on_disconnect(self, _client, _userdata, _flags, reason, _props) -> None:
        self.stats.connected = False
        self.stats.last_error = f"disconnected: {reason}"

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        self._queue.append(
            _Delivery(self._generation, message.mid, message.qos, message.topic, message.payload)
        )
        self._wake.set()

    def _take_batch(self) -> list[_Delivery]:
        """Wait for a first message, then up to batch_ms more for the batch to fill."""
        while not self._queue:
            if self._stop.is_set():
                return []
            self._wake.wait(0.1)
            self._wake.clear()
        deadline = time.monotonic() + self._batch_s
        while len(self._queue) < self._batch_size and time.monotonic() < deadline:
            if self._stop.is_set():
                break
            time.sleep(min(0.002, max(0.0, deadline - time.monotonic())))
        count = min(len(self._queue), self._batch_size)
        return [self._queue.popleft() for _ in range(count)]

    def _write_loop(self) -> None:
        backoff = 0.1
        batch: list[_Delivery] = []
        while True:
            if not batch:
                batch = self._take_batch()
                if not batch:
                    return
            try:
                outcome = self._write(batch)
            except Exception as exc:  # database down or restarting: keep the batch, retry
                with self.stats.lock:
                    self.stats.db_errors += 1
                self.stats.last_error = f"write failed: {exc}"[:500]
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.1
            self._ack(batch)
            self.stats.add(outcome)
            with self.stats.lock:
                self.stats.received += len(batch)
            batch = []
            try:
                self._on_committed(outcome)
            except Exception as exc:  # a listener must not stop ingest
                self.stats.last_error = f"on_committed failed: {exc}"

    def _write(self, batch: list[_Delivery]) -> BatchOutcome:
        parsed = [(d, self._parser.parse(d.topic, d.payload)) for d in batch]
        accepted = [r for _d, r in parsed if isinstance(r, Accepted)]
        rejected = [r for _d, r in parsed if not isinstance(r, Accepted)]
        try:
            with self._engine.begin() as conn:
                return write_batch(conn, accepted, rejected)
        except _DATA_ERRORS:
            return self._write_one_by_one(parsed, rejected)

    def _write_one_by_one(
        self, parsed: list[tuple[_Delivery, Accepted | Rejected]], rejected: list[Rejected]
    ) -> BatchOutcome:
        """A message the database refuses (valid JSON it cannot store, such as a NUL
        character) must not block the ones behind it: each is written alone and the one that
        fails goes to the dead letters with the database's reason."""
        outcome = BatchOutcome()
        for delivery, result in parsed:
            if not isinstance(result, Accepted):
                continue
            try:
                with self._engine.begin() as conn:
                    single = write_batch(conn, [result], [])
            except _DATA_ERRORS as exc:
                rejected.append(
                    Rejected(
                        RejectReason.DB_REFUSED,
                        str(exc).splitlines()[0][:500],
                        delivery.topic,
                        delivery.payload,
                        getattr(result.record, "message_id", None),
                    )
                )
                continue
            outcome.inserted += single.inserted
            outcome.duplicates += single.duplicates
            outcome.new_fails += single.new_fails
        with self._engine.begin() as conn:
            outcome.dead_letters = write_batch(conn, [], rejected).dead_letters
        return outcome

    def _ack(self, batch: list[_Delivery]) -> None:
        generation = self._generation
        for d in batch:
            if d.qos == 0:
                continue
            if d.generation != generation:
                self.stats.stale_acks += 1  # the broker re-sends it; the key drops the copy
                continue
            self._client.ack(d.mid, d.qos)
