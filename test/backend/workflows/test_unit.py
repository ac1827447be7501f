"""The unit workflow end to end in a real `serve` process (real PostgreSQL, mosquitto, HTTP
fakes): each route does what the policy says."""

from __future__ import annotations

import time

import sqlalchemy as sa
from helpers.backend_services import PageClient, add_user, wait_until

from inspection_backend.settings import MqttSettings
from inspection_backend.simulator import messages as m
from inspection_backend.simulator.cell import SimulatedCell


def _cell(backend) -> SimulatedCell:
    settings = MqttSettings("127.0.0.1", backend.info["mqtt_port"])
    return SimulatedCell(settings, ["cell-1", "cell-2"], backend.info["public_key"]).start()


def _scalar(engine: sa.Engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def test_critical_fail_holds_line_files_ncr_and_waits_for_people(
    serve, engine, fakes, database_url
):
    backend = serve()
    add_user(database_url, "erin", "engineer-pass-1", "engineer")
    cell = _cell(backend)
    try:
        stamp = time.time_ns()
        cell.publish_cell(m.verdict("cell-1", "u-crit", stamp, "FAIL", 9.0, 2.0))
        holds = wait_until(lambda: cell.received("line_hold"), 30)
        assert holds[0].verified and holds[0].document["id"] == "hold:unit:cell-1:u-crit"
        assert cell.held["cell-1"] is True
        wait_until(lambda: fakes.state.snapshot()["ncrs"], 30)
        number = wait_until(
            lambda: _scalar(engine, "SELECT number FROM ncrs WHERE state = 'analysis'"), 30
        )
        page = PageClient(backend.url, "erin", "engineer-pass-1")
        signed = page.post_form(
            f"/ncrs/{number}/sign",
            {
                "meaning": "disposition",
                "disposition": "rework",
                "capa_owner": "erin",
                "capa_due": "2027-01-31",
                "password": "engineer-pass-1",
            },
        )
        assert signed.status_code == 303, signed.text
        wait_until(lambda: fakes.state.snapshot()["rework_orders"], 30)
        hold_id = "hold:unit:cell-1:u-crit"
        released = page.post_form(f"/holds/{hold_id}/release", {"reason": "parts quarantined"})
        assert released.status_code == 303
        wait_until(lambda: cell.received("line_release"), 30)
        assert cell.held["cell-1"] is False
        wait_until(lambda: fakes.state.snapshot()["ncrs"][number]["state"] == "open", 30)
        state = fakes.state.snapshot()
        assert len(state["ncrs"]) == 1
        assert state["ncrs"][number]["history"] == ["draft", "analysis", "open"]
        assert state["holds"][hold_id]["state"] == "released"
    finally:
        cell.stop()
