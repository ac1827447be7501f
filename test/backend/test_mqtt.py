"""The backend against a broker configured like the plant's: per-user passwords and the ACL
(each cell writes only its own topics, only the backend writes commands)."""

from __future__ import annotations

import time

import sqlalchemy as sa
from helpers.backend_services import serve_env, wait_until

from inspection_backend.services.mosquitto import EmbeddedBroker, acl_text
from inspection_backend.services.serve_process import ServeProcess
from inspection_backend.settings import MqttSettings
from inspection_backend.simulator import messages as m
from inspection_backend.simulator.cell import SimulatedCell

USERS = {"backend": "backend-secret-1", "cell-1": "cell-1-secret", "cell-2": "cell-2-secret"}


def test_backend_and_cells_with_passwords_and_acl(tmp_path, database_url, engine, fakes):
    acl = acl_text("backend", {"cell-1": "cell-1", "cell-2": "cell-2"})
    with EmbeddedBroker(tmp_path / "broker", users=USERS, acl=acl) as broker:
        env = serve_env(tmp_path, tmp_path / "key.pem", database_url, broker.port, fakes.url)
        env["MQTT_URL"] = f"mqtt://backend:{USERS['backend']}@127.0.0.1:{broker.port}"
        backend = ServeProcess(tmp_path, env, tmp_path / "serve.log").start()
        settings = MqttSettings("127.0.0.1", broker.port, "cell-1", USERS["cell-1"])
        cell = SimulatedCell(settings, ["cell-1"], backend.info["public_key"]).start()
        try:
            cell.publish_cell(m.verdict("cell-1", "a", time.time_ns(), "FAIL", 9.0, 2.0))
            # The broker drops what cell-1 publishes under cell-2's topics.
            cell.publish_cell(m.verdict("cell-2", "spoof", time.time_ns(), "FAIL", 9.0, 2.0))
            hold = wait_until(lambda: cell.received("line_hold"), 30)[0]
            assert hold.verified and hold.document["cell_id"] == "cell-1"
            wait_until(lambda: _count(engine, "SELECT count(*) FROM command_results") == 1, 30)
            time.sleep(1.0)
            assert _count(engine, "SELECT count(*) FROM verdicts") == 1
        finally:
            cell.stop()
            backend.stop()


def _count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar()
