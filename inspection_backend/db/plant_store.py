"""The plant configuration in the database: the cells (so SQL can join a unit to its line and
machine) and every routing policy version that was ever loaded (so a case can be replayed with
the exact policy it was routed with)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from inspection_backend.core.plant import PlantConfig
from inspection_backend.db import audit
from inspection_backend.db.audit import AuditEntry
from inspection_backend.db.tables import cells, routing_policies


def sync_plant(conn: sa.Connection, plant: PlantConfig, actor: str = "system") -> list[str]:
    """Upsert the cells; record new policy versions (audited). A policy whose text changed
    without a new version is refused: the version is what cases refer to. Returns the
    policies that were new."""
    conn.execute(
        insert(cells).on_conflict_do_update(
            index_elements=[cells.c.cell_id],
            set_={
                "line_id": insert(cells).excluded.line_id,
                "station": insert(cells).excluded.station,
                "machine": insert(cells).excluded.machine,
                "updated_at": sa.func.now(),
            },
        ),
        [
            {"cell_id": c.cell_id, "line_id": c.line_id, "station": c.station, "machine": c.machine}
            for c in plant.cells
        ],
    )
    loaded = []
    for station, policy in sorted(plant.policies.items()):
        known = conn.execute(
            sa.select(routing_policies.c.sha256).where(
                routing_policies.c.station == station,
                routing_policies.c.version == policy.version,
            )
        ).scalar_one_or_none()
        if known == policy.sha256:
            continue
        if known is not None:
            raise ValueError(
                f"routing policy {station} version {policy.version} changed but kept its "
                "version number: bump `version` in the YAML"
            )
        conn.execute(
            routing_policies.insert().values(
                station=station, version=policy.version, sha256=policy.sha256, text=policy.text
            )
        )
        audit.record(
            conn,
            AuditEntry(
                actor,
                "policy.loaded",
                "routing_policy",
                f"{station}@{policy.version}",
                "",
                {"sha256": policy.sha256},
            ),
        )
        loaded.append(f"{station}@{policy.version}")
    return loaded
