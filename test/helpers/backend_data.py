"""Data for backend store tests: the shipped plant configuration and a way to store cell
messages exactly as ingest would (parser + write_batch), plus synced plant tables."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa

from inspection_backend.core.messages import Accepted, MessageParser, Sources
from inspection_backend.core.plant import PlantConfig
from inspection_backend.db import plant_store
from inspection_backend.db.ingest_store import write_batch
from inspection_backend.schemas import load_checks
from inspection_backend.simulator import messages as m

REPO = Path(__file__).resolve().parents[2]


@cache
def plant() -> PlantConfig:
    return PlantConfig.load(REPO / "config" / "backend" / "plant.yaml")


def parser() -> MessageParser:
    p = plant()
    return MessageParser(load_checks(), Sources(frozenset(c.cell_id for c in p.cells), p.lines))


def store(engine: sa.Engine, *messages: dict) -> None:
    """Write messages through the real parser and ingest store; fails on a refused one."""
    results = []
    for message in messages:
        root = "plant" if "line_id" in message else "inspection"
        source = message.get("line_id") or message["cell_id"]
        results.append(parser().parse(f"{root}/{source}/{message['type']}", m.encode(message)))
    bad = [r for r in results if not isinstance(r, Accepted)]
    assert not bad, bad
    with engine.begin() as conn:
        write_batch(conn, results, [])


def synced(engine: sa.Engine) -> PlantConfig:
    with engine.begin() as conn:
        plant_store.sync_plant(conn, plant())
    return plant()
