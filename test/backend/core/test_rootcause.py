"""Root-cause statistics: the rate-ratio interval against scipy's implementation, and the
ranking on data with a planted cause."""

from __future__ import annotations

import random

import pytest
from scipy.stats.contingency import relative_risk

from inspection_backend.core.rootcause import (
    TemplateExplainer,
    UnitObservation,
    rank_hypotheses,
    rate_ratio,
)


@pytest.mark.parametrize(
    ("a", "n1", "b", "n2"), [(18, 60, 4, 120), (5, 50, 5, 50), (3, 200, 40, 300)]
)
def test_rate_ratio_matches_scipy(a, n1, b, n2):
    ours = rate_ratio(a, n1, b, n2)
    ref = relative_risk(a, n1, b, n2)
    ci = ref.confidence_interval(confidence_level=0.95)
    assert ours.ratio == pytest.approx(ref.relative_risk)
    assert (ours.low, ours.high) == pytest.approx((ci.low, ci.high))


def test_zero_cells_get_the_half_correction():
    rr = rate_ratio(0, 50, 5, 100)
    assert rr.ratio == pytest.approx((0.5 / 51) / (5.5 / 101))
    assert 0 < rr.low < rr.ratio < rr.high


def test_bad_counts_raise():
    with pytest.raises(ValueError):
        rate_ratio(6, 5, 1, 10)


def _plant(seed: int = 7) -> list[UnitObservation]:
    """600 units; batch B7 fails 25 %, everything else 3 %; temperature is unrelated noise."""
    rng = random.Random(seed)
    units = []
    for i in range(600):
        batch = "B7" if i % 4 == 0 else f"B{1 + i % 3}"
        failed = rng.random() < (0.25 if batch == "B7" else 0.03)
        units.append(
            UnitObservation(
                f"u{i}",
                failed,
                {
                    "supplier_batch": batch,
                    "shift": rng.choice("ABC"),
                    "machine": rng.choice(["m0", "m1"]),
                },
                {"temperature_c": 200 + rng.gauss(0, 3)},
            )
        )
    return units


def test_planted_batch_ranks_first_with_its_rows():
    units = _plant()
    case = next(u for u in units if u.failed and u.factors["supplier_batch"] == "B7")
    ranked = rank_hypotheses(units, case.unit_id)
    best = ranked[0]
    assert (best.factor, best.level) == ("supplier_batch", "B7")
    assert best.supported and best.ratio.low > 2
    assert case.unit_id in best.evidence_units or len(best.evidence_units) == 20
    assert best.defects_in == sum(u.failed for u in units if u.factors["supplier_batch"] == "B7")
    assert not any(h.supported for h in ranked if h.factor in ("shift", "machine"))


def test_numeric_parameter_becomes_tertiles():
    rng = random.Random(3)
    units = []
    for i in range(300):
        temp = 180 + 60 * rng.random()
        failed = rng.random() < (0.4 if temp > 225 else 0.02)
        units.append(UnitObservation(f"u{i}", failed, {}, {"temperature_c": temp}))
    case = next(u for u in units if u.failed and u.parameters["temperature_c"] > 225)
    best = rank_hypotheses(units, case.unit_id)[0]
    assert best.factor == "temperature_c" and best.level.startswith("upper third")
    assert best.supported


def test_case_unit_must_be_in_the_window():
    with pytest.raises(ValueError, match="not in the window"):
        rank_hypotheses(_plant(), "nope")


def test_explainer_names_the_best_or_says_none():
    units = _plant()
    case = next(u for u in units if u.failed and u.factors["supplier_batch"] == "B7")
    text = TemplateExplainer().explain("crack", rank_hypotheses(units, case.unit_id))
    assert text.startswith("Most likely cause: supplier_batch = B7")
    quiet = [UnitObservation(f"u{i}", i % 7 == 0, {"shift": "AB"[i % 2]}) for i in range(280)]
    assert "No condition" in TemplateExplainer().explain("crack", rank_hypotheses(quiet, "u0"))
