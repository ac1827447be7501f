"""What the root-cause agent reads (the units around a case with their conditions) and writes
(its ranked hypotheses)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from inspection_backend.core.rootcause import Hypothesis, UnitObservation
from inspection_backend.core.shifts import ShiftCalendar
from inspection_backend.db.tables import rca_results

MAX_UNITS = 20000

# One row per unit of the window: its latest verdict, its MES context, the cell's drift level
# at capture time and the last process sample of its machine before capture.
_WINDOW_SQL = sa.text(
    """
    SELECT v.unit_id, v.cell_id, v.stamp, v.decision = 'FAIL' AS failed,
           ctx.sku, ctx.supplier_batch, ctx.shift, ctx.lot,
           coalesce(ctx.machine, c.machine) AS machine,
           st.level AS drift_level, ps.parameter_values
    FROM (
        SELECT DISTINCT ON (cell_id, unit_id) *
        FROM verdicts
        WHERE cell_id = ANY(:cells) AND stamp BETWEEN :since AND :until
        ORDER BY cell_id, unit_id, received_at DESC
    ) v
    JOIN cells c ON c.cell_id = v.cell_id
    LEFT JOIN LATERAL (
        SELECT * FROM unit_context u
        WHERE u.cell_id = v.cell_id AND u.unit_id = v.unit_id
        ORDER BY u.received_at DESC LIMIT 1
    ) ctx ON true
    LEFT JOIN LATERAL (
        SELECT level FROM stability_reports s
        WHERE s.cell_id = v.cell_id AND s.stamp <= v.stamp
        ORDER BY s.stamp DESC LIMIT 1
    ) st ON true
    LEFT JOIN LATERAL (
        SELECT parameter_values FROM process_samples p
        WHERE p.machine = coalesce(ctx.machine, c.machine) AND p.stamp <= v.stamp
        ORDER BY p.stamp DESC LIMIT 1
    ) ps ON true
    ORDER BY v.stamp DESC
    LIMIT :max_units
    """
)


def window_observations(
    conn: sa.Connection,
    line_cells: list[str],
    around: datetime,
    window_h: float,
    shifts: ShiftCalendar,
) -> list[UnitObservation]:
    """Units of the line's cells captured within `window_h` before `around` (and a little
    after, so units already inspected after the defect count too)."""
    rows = conn.execute(
        _WINDOW_SQL,
        {
            "cells": line_cells,
            "since": around - timedelta(hours=window_h),
            "until": around + timedelta(hours=window_h / 4),
            "max_units": MAX_UNITS,
        },
    )
    observations = []
    for r in rows:
        observations.append(
            UnitObservation(
                unit_id=f"{r.cell_id}:{r.unit_id}",
                failed=bool(r.failed),
                factors={
                    "supplier_batch": r.supplier_batch,
                    "sku": r.sku,
                    "lot": r.lot,
                    "machine": r.machine or None,
                    "shift": r.shift or shifts.slot_at(r.stamp).name,
                    "cell": r.cell_id,
                    "drift_level": r.drift_level,
                },
                parameters={k: float(v) for k, v in (r.parameter_values or {}).items()},
            )
        )
    return observations


def store_result(
    conn: sa.Connection,
    case_id: str,
    summary: str,
    hypotheses: list[Hypothesis],
    units: int,
    method: str,
) -> None:
    conn.execute(
        insert(rca_results)
        .values(
            case_id=case_id,
            summary=summary,
            hypotheses=[_plain(h) for h in hypotheses],
            units_considered=units,
            method=method,
        )
        .on_conflict_do_nothing()
    )


def _plain(h: Hypothesis) -> dict[str, Any]:
    data = asdict(h)
    data["supported"] = h.supported
    return data


def get_result(conn: sa.Connection, case_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(rca_results).where(rca_results.c.case_id == case_id)).first()
    return dict(row._mapping) if row is not None else None
