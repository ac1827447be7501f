"""Plant sync: cells upserted, each policy version recorded once, a changed policy without a
new version refused."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa
from helpers.backend_data import plant

from inspection_backend.core.routing import RoutingPolicy
from inspection_backend.db import plant_store


def test_sync_records_policy_versions_once(engine):
    config = plant()
    with engine.begin() as conn:
        assert plant_store.sync_plant(conn, config) == ["bottle@1", "metal_plate@1"]
        assert plant_store.sync_plant(conn, config) == []
    with engine.connect() as conn:
        cells = conn.execute(sa.text("SELECT cell_id, line_id FROM cells ORDER BY 1")).all()
    assert [tuple(c) for c in cells] == [
        ("cell-1", "line-1"),
        ("cell-2", "line-1"),
        ("cell-3", "line-2"),
    ]


def test_changed_policy_needs_a_new_version(engine):
    config = plant()
    with engine.begin() as conn:
        plant_store.sync_plant(conn, config)
    text = config.policies["bottle"].text.replace("score_ratio: 2.0", "score_ratio: 2.5")
    changed = dataclasses.replace(
        config, policies={**config.policies, "bottle": RoutingPolicy.from_yaml(text)}
    )
    with pytest.raises(ValueError, match="bump `version`"), engine.begin() as conn:
        plant_store.sync_plant(conn, changed)
    bumped = RoutingPolicy.from_yaml(text.replace("version: 1", "version: 2"))
    with engine.begin() as conn:
        loaded = plant_store.sync_plant(
            conn, dataclasses.replace(config, policies={**config.policies, "bottle": bumped})
        )
    assert loaded == ["bottle@2"]
