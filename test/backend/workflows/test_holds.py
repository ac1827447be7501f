"""Line holds in a real backend: two critical cases on one cell; releasing the first keeps
the cell held, releasing the second resumes it. Only a person releases."""

from __future__ import annotations

import time

import sqlalchemy as sa
from helpers.backend_services import PageClient, add_user, wait_until

from inspection_backend.settings import MqttSettings
from inspection_backend.simulator import messages as m
from inspection_backend.simulator.cell import SimulatedCell


def _active(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT count(*) FROM line_holds WHERE state = 'active'")
        ).scalar()


def test_cell_resumes_only_when_its_last_hold_is_released(serve, engine, database_url):
    add_user(database_url, "erin", "engineer-pass-1", "engineer")
    backend = serve()
    cell = SimulatedCell(
        MqttSettings("127.0.0.1", backend.info["mqtt_port"]), ["cell-1"], backend.info["public_key"]
    ).start()
    try:
        stamp = time.time_ns()
        cell.publish_cell(m.verdict("cell-1", "a", stamp, "FAIL", 9.0, 2.0))
        cell.publish_cell(m.verdict("cell-1", "b", stamp + 1, "FAIL", 9.0, 2.0))
        wait_until(lambda: len(cell.received("line_hold")) == 2, 30)
        page = PageClient(backend.url, "erin", "engineer-pass-1")
        page.post_form("/holds/hold:unit:cell-1:a/release", {"reason": "a contained"})
        wait_until(lambda: _active(engine) == 1, 30)
        time.sleep(2.0)
        assert cell.received("line_release") == [] and cell.held["cell-1"]
        page.post_form("/holds/hold:unit:cell-1:b/release", {"reason": "b contained"})
        wait_until(lambda: cell.received("line_release"), 30)
        assert not cell.held["cell-1"]
        empty = page.post_form("/holds/hold:unit:cell-1:b/release", {"reason": " "})
        assert empty.status_code == 400
    finally:
        cell.stop()
