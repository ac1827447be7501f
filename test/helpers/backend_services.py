"""Real services for backend tests: one PostgreSQL cluster per test session (a database per
test), a mosquitto per test, the fake plant systems, and `serve` as a separate process that a
test can kill with -9 and start again."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from inspection_backend.core.commands import SigningKey
from inspection_backend.services.mosquitto import mosquitto_binary
from inspection_backend.services.postgres import EmbeddedPostgres, postgres_available

REPO = Path(__file__).resolve().parents[2]
_names = itertools.count(1)


def require_services() -> None:
    if not postgres_available():
        pytest.skip("PostgreSQL 15 not installed (apt-get install postgresql)")
    if mosquitto_binary() is None:
        pytest.skip("mosquitto not installed (apt-get install mosquitto)")


class Cluster:
    """The session's cluster. Its directory lives outside pytest's tmp (mode 0700, which the
    unprivileged cluster user could not enter when the tests run as root)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="inspection-backend-test-pg-"))
        os.chmod(self.root, 0o755)
        self.pg = EmbeddedPostgres(self.root / "data")
        self.pg.start()

    def new_database(self) -> tuple[str, str]:
        """(name, URL) of a new empty database."""
        name = f"t{os.getpid()}_{next(_names)}"
        self.pg.create_database(name)
        return name, self.pg.url(name)

    def close(self) -> None:
        self.pg.destroy()
        shutil.rmtree(self.root, ignore_errors=True)


def serve_env(
    workdir: Path, key: Path, database_url: str, mqtt_port: int, fakes_url: Callable, **extra: str
) -> dict[str, str]:
    """Environment of a serve process on the test's database, broker and fakes."""
    if not key.exists():
        SigningKey.generate(key)
    env = {
        "DATA_DIR": str(workdir),
        "DATABASE_URL": database_url,
        "MQTT_URL": f"mqtt://127.0.0.1:{mqtt_port}",
        "COMMAND_KEY": str(key),
        "MES_URL": fakes_url("mes"),
        "QMS_URL": fakes_url("qms"),
        "ERP_URL": fakes_url("erp"),
        "NOTIFY_URL": fakes_url("notify"),
        "PLANT_CONFIG": str(REPO / "config" / "backend" / "plant.yaml"),
    }
    env.update(extra)
    return env


def wait_until(predicate: Callable[[], object], timeout_s: float = 30.0, every_s: float = 0.1):
    """Poll until predicate() is truthy; returns its value or fails the test with a message."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(
        f"condition not met within {timeout_s} s: {predicate.__doc__ or predicate}"
    )


class PageClient:
    """A logged-in user of the page over real HTTP (cookies, CSRF token from the page)."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        import re

        import httpx

        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)
        form = self.http.get("/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', form.text).group(1)
        answer = self.http.post(
            "/login", data={"username": username, "password": password, "login_csrf": token}
        )
        if answer.status_code != 303:
            raise AssertionError(f"login as {username} failed: {answer.status_code}")
        page = self.http.get("/cases")
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def post_form(self, path: str, data: dict[str, str]):
        return self.http.post(path, data={**data, "csrf_token": self.csrf})

    def post_json(self, path: str, body: dict):
        return self.http.post(path, json=body, headers={"X-CSRF-Token": self.csrf})

    def close(self) -> None:
        self.http.close()


def add_user(database_url: str, username: str, password: str, role: str) -> None:
    """Through the real CLI, as an administrator would."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "inspection_backend.cli.main",
            "users",
            "add",
            username,
            "--role",
            role,
            "--database-url",
            database_url,
        ],
        cwd=REPO,
        env={**os.environ, "INSPECTION_PASSWORD": password, "PYTHONPATH": str(REPO)},
        check=True,
        capture_output=True,
        timeout=120,
    )
