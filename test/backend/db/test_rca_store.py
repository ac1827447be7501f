"""The root-cause window: each unit with its MES context, the cell's drift level and the last
process sample of its machine before capture; the agent ranks the planted batch first."""

from __future__ import annotations

import random

from helpers.backend_data import store, synced

from inspection_backend.agents import root_cause
from inspection_backend.core.rootcause import TemplateExplainer
from inspection_backend.db import rca_store
from inspection_backend.db.cases_store import CaseFile
from inspection_backend.db.engine import ns_to_datetime
from inspection_backend.simulator import messages as m

T0 = 1_800_000_000 * 10**9
MINUTE = 60 * 10**9


def test_window_joins_context_drift_and_process(engine):
    plant = synced(engine)
    store(
        engine,
        m.process("line-1", "filler-1", T0 - MINUTE, {"temp_c": 180.0}),
        m.process("line-1", "filler-1", T0 + MINUTE, {"temp_c": 190.0}),
        m.stability("cell-1", T0 - MINUTE, "WATCH", 1.4),
        m.context("line-1", "cell-1", "u1", T0, supplier_batch="B7", sku="S"),
        m.verdict("cell-1", "u1", T0, "FAIL", 3.0, 2.0),
        m.verdict("cell-1", "u2", T0 + 2 * MINUTE, "PASS", 1.0, 2.0),
    )
    with engine.connect() as conn:
        units = rca_store.window_observations(
            conn, ["cell-1", "cell-2"], ns_to_datetime(T0), 1.0, plant.shifts
        )
    by_id = {u.unit_id: u for u in units}
    u1, u2 = by_id["cell-1:u1"], by_id["cell-1:u2"]
    assert u1.failed and not u2.failed
    assert u1.factors["supplier_batch"] == "B7" and u1.factors["machine"] == "filler-1"
    assert u1.factors["drift_level"] == "WATCH" and u1.factors["shift"] == "A"
    assert u1.parameters == {"temp_c": 180.0} and u2.parameters == {"temp_c": 190.0}


def test_agent_names_the_planted_batch_with_its_rows(engine):
    plant = synced(engine)
    rng = random.Random(5)
    messages = []
    for i in range(300):
        stamp = T0 + i * 10**9
        batch = "B-bad" if i % 3 == 0 else "B-ok"
        failed = rng.random() < (0.3 if batch == "B-bad" else 0.03)
        messages.append(m.context("line-1", "cell-1", f"u{i}", stamp, supplier_batch=batch))
        messages.append(m.verdict("cell-1", f"u{i}", stamp, "FAIL" if failed else "PASS", 3.0, 2.0))
    store(engine, *messages)
    case_unit = next(
        i for i in range(0, 300, 3) if messages[2 * i + 1]["body"]["decision"] == "FAIL"
    )
    case = CaseFile(
        f"unit:cell-1:u{case_unit}", "cell-1", f"u{case_unit}", "line-1", "bottle", "anomaly",
        "critical", ns_to_datetime(T0 + case_unit * 10**9), None, 3.0, "m", None, None, None,
        None, "B-bad",
    )  # fmt: skip
    report = root_cause.analyse(engine, plant, TemplateExplainer(), case)
    best = report.hypotheses[0]
    assert (best.factor, best.level, best.supported) == ("supplier_batch", "B-bad", True)
    assert report.units_considered == 300
    assert f"cell-1:u{case_unit}" in best.evidence_units
    assert report.summary.startswith("Most likely cause: supplier_batch = B-bad")
    with engine.begin() as conn:
        rca_store.store_result(
            conn, case.case_id, report.summary, list(report.hypotheses), 300, report.method
        )
    with engine.connect() as conn:
        stored = rca_store.get_result(conn, case.case_id)
    assert stored["hypotheses"][0]["level"] == "B-bad" and stored["hypotheses"][0]["supported"]
