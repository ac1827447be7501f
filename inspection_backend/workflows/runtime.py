"""DBOS Transact on the backend's PostgreSQL, and what workflow steps need at run time.

Workflows are module-level functions (DBOS registers them at import); the things they call (the
engine, the plant configuration, the plant systems, the command sender) are set here once at
start. `tx` runs a function on the application tables as a DBOS datasource transaction: its
writes and the step's checkpoint commit together, so after a crash the step is either fully
done (and skipped on recovery) or not done at all. `step` runs any other function (an HTTP call,
an MQTT publish) as a checkpointed step, retried with backoff when asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
import sqlalchemy as sa
from dbos import DBOS, DBOSConfig, SQLAlchemyDatasource

from inspection_backend import WORKFLOW_VERSION
from inspection_backend.adapters.cell_commands import CommandSender
from inspection_backend.adapters.plant_systems import PlantSystems
from inspection_backend.core.plant import PlantConfig
from inspection_backend.core.rootcause import Explainer, TemplateExplainer

APP_NAME = "inspection-backend"
T = TypeVar("T")


@dataclass
class Runtime:
    engine: sa.Engine
    plant: PlantConfig
    systems: PlantSystems
    commands: CommandSender
    datasource: SQLAlchemyDatasource
    explainer: Explainer


_runtime: Runtime | None = None


def runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("workflow runtime not started (launch() first)")
    return _runtime


def started() -> bool:
    return _runtime is not None


def launch(
    url: str,
    engine: sa.Engine,
    executor_id: str,
    plant: PlantConfig,
    systems: PlantSystems,
    commands: CommandSender,
    explainer: Explainer | None = None,
) -> Runtime:
    """Configure DBOS on `url` (system tables in schema `dbos`), register the datasource and
    launch: pending workflows of this executor id and version are recovered now."""
    global _runtime
    # Workflow modules register their functions with DBOS on import.
    from inspection_backend.workflows import holds, ncr, rca, unit  # noqa: F401

    config: DBOSConfig = {
        "name": APP_NAME,
        "system_database_url": url,
        "application_version": WORKFLOW_VERSION,
        "executor_id": executor_id,
        "log_level": "WARNING",
        "sys_db_pool_size": 20,
        "notification_listener_polling_interval_sec": 0.1,
    }
    DBOS(config=config)
    datasource = SQLAlchemyDatasource.create(url, engine=engine)
    _runtime = Runtime(
        engine, plant, systems, commands, datasource, explainer or TemplateExplainer()
    )
    DBOS.launch()
    return _runtime


def shutdown() -> None:
    global _runtime
    DBOS.destroy(destroy_registry=False)
    _runtime = None


def tx(name: str, func: Callable[..., T], *args: Any) -> T:
    """`func(connection, *args)` as an exactly-once transaction step named `name`."""
    ds = runtime().datasource

    def body(*inner: Any) -> T:
        return func(ds.sql_session().connection(), *inner)

    return ds.run_tx_step({"name": name, "isolation_level": "READ COMMITTED"}, body, *args)


# A database that is restarting or unreachable, as opposed to a statement that is wrong.
DB_AWAY = (sa.exc.OperationalError, sa.exc.InterfaceError, psycopg.OperationalError)


def until_database_answers(func: Callable[..., T], *args: Any, backoff_max_s: float = 5.0) -> T:
    """func(*args), retried with backoff while the database is away: a step that must happen
    (a line hold, a check of a waiting workflow) outlives a database restart instead of failing
    its workflow."""
    delay = 0.2
    while True:
        try:
            return func(*args)
        except DB_AWAY:
            time.sleep(delay)
            delay = min(delay * 2, backoff_max_s)


def step(name: str, func: Callable[..., T], *args: Any, retries: int = 1) -> T:
    """`func(*args)` as a checkpointed step; with retries > 1, retried with backoff."""
    options: dict[str, Any] = {"name": name}
    if retries > 1:
        options.update(
            retries_allowed=True, max_attempts=retries, interval_seconds=0.5, backoff_rate=2.0
        )
    return DBOS.run_step(options, func, *args)
