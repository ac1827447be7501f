"""`serve` on embedded defaults: it creates its own PostgreSQL and mosquitto, and on SIGTERM
stops them again (and itself, with exit code 0)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

from helpers.backend_services import require_services

from inspection_backend.services.postgres import EmbeddedPostgres
from inspection_backend.services.serve_process import ServeProcess


def test_embedded_services_start_and_stop_with_serve():
    require_services()
    root = Path(tempfile.mkdtemp(prefix="inspection-serve-test-"))
    os.chmod(root, 0o755)  # the cluster user must reach its data
    try:
        env = {"DATABASE_URL": "", "MQTT_URL": "", "PG_PORT": "0"}
        backend = ServeProcess(root, env, root / "serve.log").start(timeout_s=120)
        assert EmbeddedPostgres(root / "postgres").running()
        mqtt_port = backend.info["mqtt_port"]
        with socket.create_connection(("127.0.0.1", mqtt_port), timeout=2):
            pass
        assert (root / "command_key.pem").stat().st_mode & 0o777 == 0o600
        backend.stop()
        assert backend.proc.returncode == 0, backend.tail()
        assert not EmbeddedPostgres(root / "postgres").running()
        try:
            socket.create_connection(("127.0.0.1", mqtt_port), timeout=1).close()
            broker_up = True
        except OSError:
            broker_up = False
        assert not broker_up
    finally:
        EmbeddedPostgres(root / "postgres").destroy()
        shutil.rmtree(root, ignore_errors=True)
