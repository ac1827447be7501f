"""The unit workflow end to end in a real `serve` process (real PostgreSQL, mosquitto, HTTP
fakes): each route does what the policy says."""

from __future__ import annotations

import shutil
import time

import sqlalchemy as sa
from helpers.backend_services import REPO, PageClient, add_user, wait_until

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
        resolved = "SELECT outcome || ':' || resolved_by FROM cases WHERE unit_id = 'u-crit'"
        assert wait_until(lambda: _scalar(engine, resolved), 30) == "true_positive:erin"
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


def _plant_file(tmp_path):
    """The shipped plant with small proposal limits, so a few decisions make a proposal."""
    shutil.copytree(REPO / "config" / "backend" / "routing", tmp_path / "routing")
    text = (REPO / "config" / "backend" / "plant.yaml").read_text()
    text = text.replace("min_cases: 20", "min_cases: 4").replace(
        "min_false_alarms: 3", "min_false_alarms: 2"
    )
    (tmp_path / "plant.yaml").write_text(text)
    return str(tmp_path / "plant.yaml")


def test_review_decisions_resolve_cases_and_make_a_threshold_proposal(
    serve, engine, database_url, tmp_path
):
    backend = serve(PLANT_CONFIG=_plant_file(tmp_path))
    add_user(database_url, "olga", "operator-pass-1", "operator")
    add_user(database_url, "erin", "engineer-pass-1", "engineer")
    cell = _cell(backend)
    try:
        stamp = time.time_ns()
        scores = {"r1": 2.05, "r2": 2.1, "r3": 2.12, "r4": 2.2}
        for i, (unit, score) in enumerate(scores.items()):
            cell.publish_cell(m.verdict("cell-2", unit, stamp + i * 10**12, "FAIL", score, 2.0))
        wait_until(lambda: _scalar(engine, "SELECT count(*) FROM cases") == 4, 30)
        page = PageClient(backend.url, "olga", "operator-pass-1")
        for unit, verdict in (("r1", "pass"), ("r2", "pass"), ("r3", "pass"), ("r4", "fail")):
            answer = page.post_json(f"/api/review/unit:cell-2:{unit}", {"decision": verdict})
            assert answer.json()["ok"], answer.text
        again = page.post_json("/api/review/unit:cell-2:r1", {"decision": "fail"})
        assert again.status_code == 409
        wait_until(
            lambda: (
                _scalar(
                    engine,
                    "SELECT count(*) FROM dbos.workflow_status "
                    "WHERE name = 'unit_case' AND status = 'SUCCESS'",
                )
                == 4
            ),
            60,
        )
        proposal = wait_until(
            lambda: _scalar(engine, "SELECT proposed_value FROM threshold_proposals"), 30
        )
        assert 2.12 < proposal < 2.2
        labels = page.http.get("/labels.csv").text.splitlines()
        assert labels[0].startswith("case_id,") and len(labels) == 5
        assert page.post_form("/thresholds/1", {"approve": "true"}).status_code == 403
        engineer = PageClient(backend.url, "erin", "engineer-pass-1")
        approved = engineer.post_form(
            "/thresholds/1", {"approve": "true", "reason": "fewer alarms"}
        )
        assert approved.status_code == 303
        update = wait_until(lambda: cell.received("threshold_update"), 30)[0]
        assert update.verified and update.document["id"] == "threshold:1"
        assert update.document["params"]["approved_by"] == ["erin"]
        assert update.document["params"]["value"] == proposal
        wait_until(lambda: "accepted" in engineer.http.get("/thresholds").text, 30)
    finally:
        cell.stop()


def test_overdue_review_is_escalated_and_recurring_failures_alert_maintenance(serve, engine, fakes):
    backend = serve()
    cell = _cell(backend)
    try:
        two_days_ago = time.time_ns() - 2 * 86400 * 10**9
        cell.publish_cell(m.verdict("cell-1", "old", two_days_ago, "FAIL", 2.1, 2.0))
        stamp = time.time_ns()
        for i in range(3):
            cell.publish_cell(m.verdict("cell-3", f"rep{i}", stamp + i * 10**9, "FAIL", 3.0, 2.0))
        wait_until(
            lambda: _scalar(engine, "SELECT state FROM cases WHERE unit_id = 'old'") == "escalated",
            30,
        )
        events = lambda: [n["event"] for n in fakes.state.snapshot()["notifications"]]  # noqa: E731
        wait_until(lambda: {"review_overdue", "maintenance"} <= set(events()), 30)
        assert _scalar(engine, "SELECT count(*) FROM maintenance_alerts") == 1
        assert _scalar(engine, "SELECT case_id FROM maintenance_alerts") == "unit:cell-3:rep2"
    finally:
        cell.stop()
