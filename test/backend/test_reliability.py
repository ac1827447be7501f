"""Reliability of the backend with real processes: real PostgreSQL, real mosquitto, `serve` as a
subprocess killed with -9, the fake plant systems over HTTP. Each test names the failure it
provokes and checks that nothing was lost, nothing doubled and every step ran once."""

from __future__ import annotations

import time

import httpx
import pytest
import sqlalchemy as sa
from helpers.backend_services import (
    Cluster,
    PageClient,
    add_user,
    serve_env,
    wait_until,
)

from inspection_backend.db.engine import make_engine
from inspection_backend.services.serve_process import ServeProcess
from inspection_backend.settings import MqttSettings
from inspection_backend.simulator import messages as m
from inspection_backend.simulator.cell import SimulatedCell

pytestmark = pytest.mark.slow
CRITICAL_SCORE, BORDERLINE_SCORE, THRESHOLD = 9.0, 2.1, 2.0


def cell_for(backend, answer: bool = True) -> SimulatedCell:
    settings = MqttSettings("127.0.0.1", backend.info["mqtt_port"])
    return SimulatedCell(
        settings, ["cell-1", "cell-2", "cell-3"], backend.info["public_key"], answer=answer
    ).start()


def scalar(engine: sa.Engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def rows(engine: sa.Engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()


def critical(cell_id: str, unit: str, stamp: int | None = None) -> dict:
    return m.verdict(cell_id, unit, stamp or time.time_ns(), "FAIL", CRITICAL_SCORE, THRESHOLD)


def test_kill9_while_waiting_for_approval_resumes_and_ncr_step_ran_once(
    serve, engine, fakes, database_url
):
    add_user(database_url, "erin", "engineer-pass-1", "engineer")
    backend = serve()
    cell = cell_for(backend)
    try:
        cell.publish_cell(critical("cell-1", "u1"))
        number = wait_until(
            lambda: scalar(engine, "SELECT number FROM ncrs WHERE state = 'analysis'"), 60
        )
        wait_until(lambda: cell.received("line_hold"), 30)
        backend.kill9()
        backend.start()
        page = PageClient(backend.url, "erin", "engineer-pass-1")
        answer = page.post_form(
            f"/ncrs/{number}/sign",
            {
                "meaning": "disposition",
                "disposition": "scrap",
                "capa_owner": "erin",
                "capa_due": "2027-03-01",
                "password": "engineer-pass-1",
            },
        )
        assert answer.status_code == 303, answer.text
        wait_until(lambda: fakes.state.snapshot()["ncrs"][number]["state"] == "open", 60)
        assert scalar(engine, "SELECT count(*) FROM ncrs") == 1
        assert scalar(engine, "SELECT count(*) FROM audit_log WHERE action = 'ncr.created'") == 1
        create_steps = rows(
            engine,
            "SELECT function_id FROM dbos.operation_outputs "
            "WHERE workflow_uuid = 'ncr:unit:cell-1:u1' AND function_name = 'ncr_create'",
        )
        assert len(create_steps) == 1
        assert fakes.state.snapshot()["calls"]["POST /qms/ncrs"] == 1
        # The hold survived the restart and is still released only by a person.
        assert cell.held["cell-1"] is True
        page.post_form("/holds/hold:unit:cell-1:u1/release", {"reason": "scrapped, line ok"})
        wait_until(lambda: cell.received("line_release"), 30)
        assert cell.held["cell-1"] is False
    finally:
        cell.stop()


def test_kill9_between_receive_and_commit_gives_one_row(serve, engine):
    backend = serve()
    cell = cell_for(backend)
    blocker = engine.connect()
    try:
        # Hold the verdicts table so the backend receives the message but cannot commit it.
        tx = blocker.begin()
        blocker.execute(sa.text("LOCK TABLE verdicts IN ACCESS EXCLUSIVE MODE"))
        cell.publish_cell(m.verdict("cell-1", "u-pending", time.time_ns(), "PASS", 1.0, 2.0))
        wait_until(
            lambda: scalar(
                engine,
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE '%verdicts%' AND pid <> pg_backend_pid()",
            ),
            30,
        )
        backend.kill9()
        tx.rollback()
        assert scalar(engine, "SELECT count(*) FROM verdicts") == 0
        backend.start()
        wait_until(lambda: scalar(engine, "SELECT count(*) FROM verdicts") == 1, 30)
        time.sleep(1.0)
        assert scalar(engine, "SELECT count(*) FROM verdicts") == 1
    finally:
        blocker.close()
        cell.stop()


def test_broker_restart_while_cell_publishes_loses_and_doubles_nothing(serve, engine, broker):
    backend = serve()
    cell = cell_for(backend)
    sent = []
    try:
        for i in range(600):
            msg = m.verdict("cell-2", f"b{i}", time.time_ns(), "PASS", 1.0, 2.0)
            sent.append(msg["id"])
            cell.publish_cell(msg)
            if i == 200:
                broker.stop()
            if i == 400:
                broker.start()
            time.sleep(0.003)
        assert cell.wait_acknowledged(60) == 0
        wait_until(lambda: scalar(engine, "SELECT count(*) FROM verdicts") >= len(sent), 60)
        time.sleep(1.0)
        stored = [r[0] for r in rows(engine, "SELECT message_id FROM verdicts")]
        assert sorted(stored) == sorted(sent)
    finally:
        cell.stop()


def test_same_message_three_times_one_row_one_workflow(serve, engine):
    backend = serve()
    cell = cell_for(backend)
    try:
        message = m.verdict("cell-1", "u3x", time.time_ns(), "FAIL", BORDERLINE_SCORE, THRESHOLD)
        for _ in range(3):
            cell.publish_cell(message)
        wait_until(
            lambda: scalar(
                engine,
                "SELECT count(*) FROM dbos.workflow_status WHERE workflow_uuid = 'unit:cell-1:u3x'",
            ),
            30,
        )
        time.sleep(1.0)
        assert scalar(engine, "SELECT count(*) FROM verdicts") == 1
        assert scalar(engine, "SELECT count(*) FROM cases") == 1
        assert scalar(engine, "SELECT count(*) FROM dbos.workflow_status") == 1
        health = httpx.get(backend.url + "/healthz", timeout=10).json()
        assert health["ingest"]["duplicates"] == 2
    finally:
        cell.stop()


def test_postgres_immediate_stop_mid_workflow_recovers(tmp_path, broker, fakes):
    """A cluster of its own, stopped with `pg_ctl -m immediate` while workflows run."""
    own = Cluster()
    pg = own.pg
    engine = make_engine(pg.url(), pool_size=2)
    workdir = tmp_path / "serve"
    workdir.mkdir()
    env = serve_env(workdir, tmp_path / "key.pem", pg.url(), broker.port, fakes.url)
    backend = ServeProcess(
        workdir, {**env, "EXECUTOR_ID": "pg-test"}, workdir / "serve.log"
    ).start()
    cell = cell_for(backend)
    try:
        for i in range(3):
            cell.publish_cell(critical("cell-1", f"c{i}"))
        time.sleep(0.3)  # workflows are starting and running their first steps
        pg.stop("immediate")
        for i in range(50):
            cell.publish_cell(m.verdict("cell-2", f"p{i}", time.time_ns(), "PASS", 1.0, 2.0))
        time.sleep(3.0)
        pg.start()
        wait_until(lambda: scalar(engine, "SELECT count(*) FROM verdicts") == 53, 90)
        wait_until(
            lambda: scalar(engine, "SELECT count(*) FROM ncrs WHERE state = 'analysis'") == 3, 120
        )
        wait_until(lambda: len({c.document["id"] for c in cell.received("line_hold")}) == 3, 60)
        assert scalar(engine, "SELECT count(*) FROM cases") == 3
        assert scalar(engine, "SELECT count(*) FROM line_holds WHERE state = 'active'") == 3
        wait_until(lambda: len(fakes.state.snapshot()["ncrs"]) == 3, 60)
        assert len(cell.applied) == 3  # each hold applied once, re-sends answered as duplicates
        assert (
            scalar(engine, "SELECT count(*) FROM dbos.workflow_status WHERE status = 'ERROR'") == 0
        )
    finally:
        cell.stop()
        backend.stop()
        engine.dispose()
        own.close()


def test_two_backends_one_killed_its_work_is_recovered(serve, engine, fakes, database_url):
    add_user(database_url, "erin", "engineer-pass-1", "engineer")
    first = serve("exec-a", EXECUTOR_DEAD_AFTER_S="4")
    cell = cell_for(first)
    try:
        cell.publish_cell(critical("cell-1", "k1"))
        cell.publish_cell(
            m.verdict("cell-2", "k2", time.time_ns(), "FAIL", BORDERLINE_SCORE, THRESHOLD)
        )
        number = wait_until(
            lambda: scalar(engine, "SELECT number FROM ncrs WHERE state = 'analysis'"), 60
        )
        owners = rows(engine, "SELECT DISTINCT executor_id FROM dbos.workflow_status")
        assert [r[0] for r in owners] == ["exec-a"]
        second = serve("exec-b", EXECUTOR_DEAD_AFTER_S="4")
        first.kill9()
        wait_until(
            lambda: (
                scalar(
                    engine,
                    "SELECT count(*) FROM dbos.workflow_status "
                    "WHERE status = 'PENDING' AND executor_id = 'exec-b'",
                )
                >= 3
            ),
            60,
        )
        page = PageClient(second.url, "erin", "engineer-pass-1")
        answer = page.post_form(
            f"/ncrs/{number}/sign",
            {
                "meaning": "disposition",
                "disposition": "return_to_supplier",
                "capa_owner": "erin",
                "capa_due": "2027-03-01",
                "password": "engineer-pass-1",
            },
        )
        assert answer.status_code == 303
        wait_until(lambda: fakes.state.snapshot()["ncrs"][number]["state"] == "open", 60)
        review = page.post_json("/api/review/unit:cell-2:k2", {"decision": "pass"})
        assert review.json()["ok"] is True
        wait_until(
            lambda: (
                scalar(
                    engine,
                    "SELECT status FROM dbos.workflow_status "
                    "WHERE workflow_uuid = 'unit:cell-2:k2'",
                )
                == "SUCCESS"
            ),
            60,
        )
        assert len(fakes.state.snapshot()["ncrs"]) == 1
    finally:
        cell.stop()


def test_qms_holds_exactly_one_ncr_per_case_despite_failures(serve, engine, fakes):
    httpx.post(f"http://127.0.0.1:{fakes.port}/_fail?count=3", json={}, timeout=5)
    backend = serve()
    cell = cell_for(backend)
    try:
        for i in range(4):
            cell.publish_cell(critical(f"cell-{1 + i % 3}", f"q{i}"))
            cell.publish_cell(critical(f"cell-{1 + i % 3}", f"q{i}"))  # and a re-send
        wait_until(lambda: len(fakes.state.snapshot()["ncrs"]) == 4, 90)
        time.sleep(1.0)
        ncrs = fakes.state.snapshot()["ncrs"]
        assert len(ncrs) == 4
        assert sorted(n["case_id"] for n in ncrs.values()) == sorted(
            f"unit:cell-{1 + i % 3}:q{i}" for i in range(4)
        )
        assert scalar(engine, "SELECT count(*) FROM ncrs") == 4
    finally:
        cell.stop()


def test_bad_payloads_are_refused_with_a_reason_and_ingest_goes_on(serve, engine):
    backend = serve()
    cell = cell_for(backend)
    try:
        good = m.verdict("cell-1", "ok1", time.time_ns(), "PASS", 1.0, 2.0)
        cell.publish("inspection/cell-1/verdict", b"{truncated")
        cell.publish("inspection/cell-1/verdict", b"x" * (70 * 1024))
        cell.publish(
            "inspection/cell-9/verdict", m.encode(m.verdict("cell-9", "u", 1, "PASS", 1.0, 2.0))
        )
        cell.publish(
            "inspection/cell-2/verdict", m.encode(good)
        )  # cell-1's payload, cell-2's topic
        bad_schema = m.verdict("cell-1", "u", 1, "PASS", 1.0, 2.0)
        del bad_schema["body"]["reasons"]
        cell.publish_cell(bad_schema)
        cell.publish_cell(good)
        wait_until(lambda: scalar(engine, "SELECT count(*) FROM verdicts") == 1, 30)
        wait_until(lambda: scalar(engine, "SELECT count(*) FROM dead_letters") == 5, 30)
        reasons = {r[0]: r[1] for r in rows(engine, "SELECT reason, detail FROM dead_letters")}
        assert set(reasons) == {
            "not_json",
            "oversized",
            "unknown_source",
            "foreign_topic",
            "schema",
        }
        assert "reasons" in reasons["schema"]
        assert backend.proc.poll() is None
    finally:
        cell.stop()


def test_commands_carry_issuer_and_id_and_are_answered(serve, engine):
    backend = serve()
    cell = cell_for(backend)
    try:
        cell.publish_cell(critical("cell-3", "cmd1"))
        wait_until(
            lambda: scalar(engine, "SELECT count(*) FROM command_results WHERE accepted"), 30
        )
        document = rows(engine, "SELECT document FROM commands")[0][0]
        assert document["issued_by"] == "backend" and document["id"] == "hold:unit:cell-3:cmd1"
        answer = rows(engine, "SELECT command_id, accepted, reason FROM command_results")[0]
        assert answer.command_id == document["id"] and answer.accepted
        assert scalar(engine, "SELECT published_at IS NOT NULL FROM commands")
    finally:
        cell.stop()
