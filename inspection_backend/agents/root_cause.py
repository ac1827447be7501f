"""Root-cause agent: the units around a critical defect, ranked hypotheses, a statement.

Reads the window from the database, ranks with `core.rootcause` (statistics, no model) and lets
the plant's `Explainer` phrase the result; the default explainer is a template, a language
model can be plugged in behind the same interface and never changes the ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from inspection_backend.core.plant import PlantConfig
from inspection_backend.core.rootcause import Explainer, Hypothesis, rank_hypotheses
from inspection_backend.db import rca_store
from inspection_backend.db.cases_store import CaseFile

METHOD = "rate-ratio/katz-95"


@dataclass(frozen=True)
class RootCauseReport:
    summary: str
    hypotheses: tuple[Hypothesis, ...]
    units_considered: int
    method: str = METHOD


def analyse(
    engine: sa.Engine, plant: PlantConfig, explainer: Explainer, case: CaseFile
) -> RootCauseReport:
    line_cells = [c.cell_id for c in plant.cells if c.line_id == case.line_id]
    with engine.connect() as conn:
        units = rca_store.window_observations(
            conn, line_cells, case.stamp, plant.rootcause_window_h, plant.shifts
        )
    case_unit = f"{case.cell_id}:{case.unit_id}"
    if not any(u.unit_id == case_unit for u in units):
        return RootCauseReport("the unit's verdict is not in the window; no analysis", (), 0)
    hypotheses = rank_hypotheses(units, case_unit, min_defects=plant.rootcause_min_defects)
    summary = explainer.explain(case.defect_class, hypotheses)
    return RootCauseReport(summary, tuple(hypotheses), len(units))
