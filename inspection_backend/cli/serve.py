"""`inspection-backend serve`: the whole backend in one process (see backend.py), the web page
in front. With no DATABASE_URL / MQTT_URL it starts its own PostgreSQL and mosquitto under
DATA_DIR. Ports in use are written to DATA_DIR/serve.json once everything is up. Stops cleanly
on SIGTERM or Ctrl-C (ingest first, so the last batch is written and acknowledged)."""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import logging
import os
import signal
import socket
import sys
import threading
from typing import Any

from dbos import DBOS

from inspection_backend.backend import Backend, Services
from inspection_backend.cli.common import add_settings_arguments, settings_from
from inspection_backend.core.plant import PlantConfig
from inspection_backend.web.context import WebContext

log = logging.getLogger("inspection_backend")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the backend and its web page")
    add_settings_arguments(parser)
    parser.add_argument("--http-port", type=int, help="HTTP_PORT (0: free port)")
    parser.add_argument("--executor-id", help="EXECUTOR_ID of this process")
    parser.add_argument("--role", choices=("all", "ingest", "workflows"), help="ROLE")
    parser.set_defaults(func=_run)


def _notifier(workflow_id: str, message: dict[str, Any], topic: str) -> None:
    """Wake a waiting workflow; if it cannot be reached now, its next check sees the change."""
    try:
        DBOS.send(workflow_id, message, topic)
    except Exception as exc:
        log.warning("could not notify workflow %s (%s): %s", workflow_id, topic, exc)


def _health(backend: Backend) -> dict[str, Any]:
    health: dict[str, Any] = {"executor": backend.settings.executor, "role": backend.settings.role}
    if backend.ingest is not None:
        stats = backend.ingest.stats
        health["mqtt_connected"] = stats.connected
        health["ingest"] = {
            "received": stats.received,
            "inserted": stats.inserted,
            "duplicates": stats.duplicates,
            "dead_letters": stats.dead_letters,
            "db_errors": stats.db_errors,
            "last_error": stats.last_error,
        }
    if backend.dispatcher is not None:
        health["dispatcher"] = {
            "routed": backend.dispatcher.routed,
            "started": backend.dispatcher.started,
            "errors": backend.dispatcher.errors,
        }
        health["recovered_executors"] = backend.watch.recovered
    return health


def _wait_for_signal() -> None:
    """An ingest-only process has no page: it runs until SIGTERM or Ctrl-C."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    from inspection_backend.web.app import create_app

    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints every thread's stack
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = settings_from(
        args, http_port=args.http_port, executor_id=args.executor_id, role=args.role
    )
    plant = PlantConfig.load(settings.plant_config)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    services = Services.start(settings)
    backend = Backend(settings, services, plant)
    try:
        backend.start()
        if backend.dispatcher is None:
            backend.write_endpoints(settings.data_dir / "serve.json", 0)
            log.info("ingest up: MQTT %s:%d", services.mqtt.host, services.mqtt.port)
            _wait_for_signal()
            return 0
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.http_host, settings.http_port))
        http_port = sock.getsockname()[1]
        app = create_app(
            WebContext(
                engine=backend.engine,
                settings=settings,
                plant=plant,
                notify_workflow=_notifier,
                send_command=backend.commands.send,
                health=lambda: _health(backend),
            )
        )
        backend.write_endpoints(settings.data_dir / "serve.json", http_port)
        log.info(
            "backend up (%s): page http://%s:%d/ · MQTT %s:%d · executor %s",
            settings.role,
            settings.http_host,
            http_port,
            services.mqtt.host,
            services.mqtt.port,
            settings.executor,
        )
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", timeout_graceful_shutdown=3
        )
        # uvicorn shuts down gracefully on SIGTERM and then raises the signal again to the
        # handler it found: ignore that second one, so run() returns and the code below stops
        # ingest (last batch written and acknowledged), DBOS and the embedded services.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        try:
            backend.stop()
        finally:
            services.stop()
    _leave_waiting_workflows()
    return 0


def _leave_waiting_workflows() -> None:
    """Workflows waiting for people block executor threads that Python would join at exit
    (for up to a wait's poll interval). Their state is in the database and they resume on the
    next start, so once everything is stopped the process leaves without joining them."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
