"""Assembles the backend process: embedded services (or the plant's by URL), migrations, DBOS,
ingest, dispatcher, executor watch and the command sender; `serve` adds the web page on top.

A process has a role: `all` (the default, one process does everything), `ingest` (MQTT to the
raw tables only; wakes dispatchers in other processes by NOTIFY) or `workflows` (dispatcher,
DBOS executor, commands, page). Python runs one thread at a time per process, so on a machine
with several cores an ingest process beside a workflows process uses two of them.

Start order matters: the schema is migrated and the plant synced before DBOS recovers pending
workflows (they read the tables), and ingest starts last so nothing is acknowledged before the
whole chain behind it is up. Stop runs in reverse: ingest first, so the last batch is written
and acknowledged, DBOS last.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from dbos import DBOS, SetWorkflowID

from inspection_backend.adapters.cell_commands import CommandSender
from inspection_backend.adapters.plant_systems import PlantSystems
from inspection_backend.core.commands import SigningKey
from inspection_backend.core.messages import MessageParser, Sources
from inspection_backend.core.plant import PlantConfig
from inspection_backend.core.routing import facts_of, is_critical
from inspection_backend.db import migrate, plant_store
from inspection_backend.db.cases_store import CaseStart
from inspection_backend.db.engine import make_engine
from inspection_backend.db.ingest_store import BatchOutcome
from inspection_backend.ingest.consumer import IngestConsumer
from inspection_backend.ingest.dispatcher import Dispatcher
from inspection_backend.ingest.wakeups import DispatchListener, notify_dispatch
from inspection_backend.schemas import load_checks
from inspection_backend.services.mosquitto import EmbeddedBroker
from inspection_backend.services.postgres import EmbeddedPostgres
from inspection_backend.settings import MqttSettings, Settings
from inspection_backend.workflows import runtime
from inspection_backend.workflows.executors import ExecutorWatch

log = logging.getLogger(__name__)
ROLE_ALL, ROLE_INGEST, ROLE_WORKFLOWS = "all", "ingest", "workflows"
ROLES = (ROLE_ALL, ROLE_INGEST, ROLE_WORKFLOWS)


@dataclass
class Services:
    """Where the database and the broker are, and the embedded ones we started (if any)."""

    database_url: str
    mqtt: MqttSettings
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None

    @classmethod
    def start(cls, settings: Settings) -> Services:
        postgres = broker = None
        url = settings.database_url
        try:
            if not url:
                cluster = EmbeddedPostgres(
                    settings.data_dir / "postgres",
                    port=settings.pg_port or None,
                    run_as=settings.pg_run_as,
                )
                # A cluster another process of this DATA_DIR started is used, not stopped.
                postgres = None if cluster.running() else cluster
                cluster.start()
                url = cluster.url()
            if not settings.mqtt_url:
                broker = EmbeddedBroker(settings.data_dir / "mosquitto")
                broker.start()
            mqtt = settings.mqtt(broker.port if broker else None)
        except BaseException:
            if postgres is not None:
                postgres.stop()
            raise
        return cls(url, mqtt, postgres, broker)

    def stop(self) -> None:
        if self.broker is not None:
            self.broker.stop()
        if self.postgres is not None:
            self.postgres.stop()


def load_signing_key(settings: Settings, embedded: bool) -> SigningKey:
    """The command key; with embedded defaults a missing key is created (0600) on first start,
    a configured path that does not exist is an error."""
    path = settings.command_key_path
    if not path.exists():
        if not embedded or str(settings.command_key) not in ("", "."):
            raise FileNotFoundError(
                f"command key {path} not found: create it with `inspection-backend keygen`"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        SigningKey.generate(path)
    return SigningKey.load(path, settings.command_key_id)


def start_case(start: CaseStart) -> None:
    from inspection_backend.workflows.unit import unit_case

    with SetWorkflowID(start.case_id):
        DBOS.start_workflow(unit_case, start)


@dataclass
class Backend:
    settings: Settings
    services: Services
    plant: PlantConfig
    engine: sa.Engine | None = None
    key: SigningKey | None = None
    commands: CommandSender | None = None
    dispatcher: Dispatcher | None = None
    listener: DispatchListener | None = None
    ingest: IngestConsumer | None = None
    watch: ExecutorWatch | None = None

    def start(self) -> None:
        s = self.settings
        self.engine = make_engine(self.services.database_url)
        migrate.upgrade(self.engine)
        with self.engine.begin() as conn:
            plant_store.sync_plant(conn, self.plant)
        if s.role in (ROLE_ALL, ROLE_WORKFLOWS):
            self._start_workflows()
        if s.role in (ROLE_ALL, ROLE_INGEST):
            self._start_ingest()

    def _start_workflows(self) -> None:
        s = self.settings
        self.key = load_signing_key(s, embedded=self.services.postgres is not None)
        self.commands = CommandSender(
            self.services.mqtt, f"{s.mqtt_client_id}-cmd", self.key, self.engine
        )
        self.commands.start()
        systems = PlantSystems.from_urls(s.mes_url, s.qms_url, s.erp_url, s.notify_url)
        runtime.launch(
            self.services.database_url, self.engine, s.executor, self.plant, systems, self.commands
        )
        self.watch = ExecutorWatch(
            self.engine,
            s.executor,
            lambda ids: len(DBOS._recover_pending_workflows(ids)),
            dead_after_s=s.executor_dead_after_s,
        )
        self.watch.start()
        self.dispatcher = Dispatcher(self.engine, self.plant, start_case)
        self.dispatcher.start()
        self.listener = DispatchListener(self.engine, self.dispatcher.urgent, self.dispatcher.wake)
        self.listener.start()

    def _start_ingest(self) -> None:
        s = self.settings
        cells = frozenset(c.cell_id for c in self.plant.cells)
        parser = MessageParser(load_checks(), Sources(cells, self.plant.lines))
        self.ingest = IngestConsumer(
            self.services.mqtt,
            s.mqtt_client_id,
            parser,
            self.engine,
            on_committed=self._committed,
            batch_size=s.ingest_batch,
            batch_ms=s.ingest_batch_ms,
            shared_group=s.mqtt_shared_group,
        )
        self.ingest.start()
        if not self.ingest.wait_subscribed(30.0):
            log.warning("ingest not subscribed yet: %s", self.ingest.stats.last_error)

    def _committed(self, outcome: BatchOutcome) -> None:
        """After each ingest commit: critical FAILs jump the dispatcher's queue."""
        if not outcome.new_fails:
            return
        critical = [
            r.message_id
            for r in outcome.new_fails
            if is_critical(
                self.plant.policy_for(r.cell_id),
                facts_of(
                    r.score,
                    r.image_threshold,
                    r.anomaly.area_ratio if r.anomaly else None,
                    [(d.class_name, d.confidence) for d in r.detections or ()],
                ),
            )
        ]
        if self.dispatcher is None:  # workflows run in another process
            notify_dispatch(self.engine, critical)
        elif critical:
            self.dispatcher.urgent(critical)
        else:
            self.dispatcher.wake()

    def stop(self) -> None:
        """Reverse start order; parts that never started (a failed start) are skipped."""
        for part in (self.ingest, self.listener, self.dispatcher, self.watch):
            if part is not None:
                part.stop()
        if runtime.started():
            runtime.shutdown()
        if self.commands is not None:
            self.commands.stop()
        if self.engine is not None:
            self.engine.dispose()

    def write_endpoints(self, path: Path, http_port: int) -> None:
        """Ports of this process for tests, the demo and the bench (`serve.json`)."""
        info = {
            "pid": os.getpid(),
            "http_port": http_port,
            "mqtt_host": self.services.mqtt.host,
            "mqtt_port": self.services.mqtt.port,
            "database_url": sa.make_url(self.services.database_url).render_as_string(
                hide_password=True
            ),
            "public_key": self.key.public_b64 if self.key else None,
            "role": self.settings.role,
            "executor_id": self.settings.executor,
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(info, indent=2))
        tmp.replace(path)
