"""Fixtures of the backend tests: real PostgreSQL (one cluster per session, a database per
test), real mosquitto, the fake plant systems over real HTTP, and `serve` as a process."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from helpers.backend_services import Cluster, require_services, serve_env

from inspection_backend.db import migrate
from inspection_backend.db.engine import make_engine
from inspection_backend.fakes.plant_systems import FakePlantSystems
from inspection_backend.services.mosquitto import EmbeddedBroker
from inspection_backend.services.serve_process import ServeProcess


@pytest.fixture(scope="session")
def cluster():
    require_services()
    cluster = Cluster()
    yield cluster
    cluster.close()


@pytest.fixture
def database_url(cluster) -> str:
    """A database of its own per test, dropped afterwards (connections left over included)."""
    name, url = cluster.new_database()
    yield url
    cluster.pg.drop_database(name)


@pytest.fixture
def engine(database_url) -> sa.Engine:
    engine = make_engine(database_url, pool_size=4)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def broker(tmp_path):
    require_services()
    with EmbeddedBroker(tmp_path / "broker") as broker:
        yield broker


@pytest.fixture
def fakes():
    with FakePlantSystems() as fakes:
        yield fakes


@pytest.fixture
def serve(tmp_path, database_url, broker, fakes):
    """Factory: `serve()` starts a backend process (call again for a second executor)."""
    started: list[ServeProcess] = []

    def start(executor_id: str = "test-1", **extra: str) -> ServeProcess:
        workdir = tmp_path / executor_id
        workdir.mkdir(exist_ok=True)
        key = tmp_path / "command_key.pem"
        env = serve_env(workdir, key, database_url, broker.port, fakes.url, **extra)
        env["EXECUTOR_ID"] = executor_id
        process = ServeProcess(workdir, env, workdir / "serve.log").start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
