"""Root-cause statistics: which condition of a failed unit comes with a higher defect rate.

Deterministic and explainable, no model needed. Over the units of a look-back window on the
same line, each condition the failed unit had (its supplier batch, shift, machine, SKU, the
cell's drift level, and for every process parameter the third of its range the unit's value
fell in) is compared with the other units: defect rate inside vs outside, the rate ratio and
its 95 % confidence interval (Katz log method; 0.5 added to every cell when one is zero). A
hypothesis is supported when the interval's lower bound is above 1; hypotheses are ranked by
that lower bound (the most certain effect first), then by the ratio. Each carries the counts
and the ids of the failed units behind it, so a person can check it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class UnitObservation:
    """One unit of the window: failed or not, its categorical conditions and parameters."""

    unit_id: str
    failed: bool
    factors: Mapping[str, str | None]
    parameters: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class RateRatio:
    ratio: float
    low: float
    high: float


def rate_ratio(a: int, n1: int, b: int, n2: int, z: float = Z_95) -> RateRatio:
    """(a/n1) / (b/n2) with a Katz log-scale interval; 0.5 added to all cells when one is 0."""
    if n1 <= 0 or n2 <= 0 or not 0 <= a <= n1 or not 0 <= b <= n2:
        raise ValueError(f"need 0 <= a <= n1, 0 <= b <= n2, n1, n2 > 0; got {a}/{n1}, {b}/{n2}")
    if a == 0 or b == 0 or a == n1 or b == n2:
        a, b, n1, n2 = a + 0.5, b + 0.5, n1 + 1.0, n2 + 1.0
    ratio = (a / n1) / (b / n2)
    se = math.sqrt(1 / a - 1 / n1 + 1 / b - 1 / n2)
    return RateRatio(ratio, ratio * math.exp(-z * se), ratio * math.exp(z * se))


@dataclass(frozen=True)
class Hypothesis:
    factor: str
    level: str
    statement: str
    defects_in: int
    units_in: int
    defects_out: int
    units_out: int
    ratio: RateRatio
    evidence_units: tuple[str, ...]

    @property
    def supported(self) -> bool:
        return self.ratio.low > 1.0


def _tertile_label(value: float, cuts: tuple[float, float], low: float, high: float) -> str:
    if value <= cuts[0]:
        return f"lower third [{low:.4g}, {cuts[0]:.4g}]"
    if value <= cuts[1]:
        return f"middle third ({cuts[0]:.4g}, {cuts[1]:.4g}]"
    return f"upper third ({cuts[1]:.4g}, {high:.4g}]"


def _cuts(values: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[(n - 1) // 3], ordered[(2 * (n - 1)) // 3]


def _conditions(units: Sequence[UnitObservation]) -> dict[str, list[str | None]]:
    """Every unit's level of every factor; parameters become their tertile."""
    names = sorted({k for u in units for k in u.factors})
    table: dict[str, list[str | None]] = {n: [u.factors.get(n) for u in units] for n in names}
    for param in sorted({k for u in units for k in u.parameters}):
        values = [u.parameters.get(param) for u in units]
        known = [v for v in values if v is not None and math.isfinite(v)]
        if len(set(known)) < 3:
            continue
        cuts, low, high = _cuts(known), min(known), max(known)
        table[param] = [
            _tertile_label(v, cuts, low, high) if v is not None and math.isfinite(v) else None
            for v in values
        ]
    return table


def _evidence(inside: Sequence[UnitObservation], case_unit: str, limit: int) -> tuple[str, ...]:
    """The failed units behind a hypothesis, the case's own unit first."""
    others = [u.unit_id for u in inside if u.failed and u.unit_id != case_unit]
    return tuple([case_unit, *others][:limit])


def rank_hypotheses(
    units: Sequence[UnitObservation],
    case_unit: str,
    min_defects: int = 3,
    max_evidence: int = 20,
) -> list[Hypothesis]:
    """Hypotheses about `case_unit`'s own conditions, ranked; unsupported ones are kept last
    (they are evidence too: "not the supplier batch")."""
    index = next((i for i, u in enumerate(units) if u.unit_id == case_unit), None)
    if index is None:
        raise ValueError(f"unit {case_unit!r} is not in the window")
    hypotheses = []
    for factor, levels in _conditions(units).items():
        level = levels[index]
        if level is None:
            continue
        inside = [u for u, lv in zip(units, levels, strict=True) if lv == level]
        outside = [u for u, lv in zip(units, levels, strict=True) if lv is not None and lv != level]
        a = sum(u.failed for u in inside)
        b = sum(u.failed for u in outside)
        if not outside or a < min_defects:
            continue
        ratio = rate_ratio(a, len(inside), b, len(outside))
        hypotheses.append(
            Hypothesis(
                factor=factor,
                level=level,
                statement=(
                    f"{factor} = {level}: {a}/{len(inside)} failed vs {b}/{len(outside)} "
                    f"otherwise, rate ratio {ratio.ratio:.2f} "
                    f"(95 % CI {ratio.low:.2f}-{ratio.high:.2f})"
                ),
                defects_in=a,
                units_in=len(inside),
                defects_out=b,
                units_out=len(outside),
                ratio=ratio,
                evidence_units=_evidence(inside, case_unit, max_evidence),
            )
        )
    hypotheses.sort(key=lambda h: (not h.supported, -h.ratio.low, -h.ratio.ratio, h.factor))
    return hypotheses


class Explainer(Protocol):
    """Turns ranked hypotheses into a sentence for the NCR. The default is a template; a plant
    may plug in a language model behind the same call (it must not change the ranking)."""

    def explain(self, defect_class: str, hypotheses: Sequence[Hypothesis]) -> str: ...


class TemplateExplainer:
    """Names the best supported hypothesis with its numbers, or says that none is supported."""

    def explain(self, defect_class: str, hypotheses: Sequence[Hypothesis]) -> str:
        supported = [h for h in hypotheses if h.supported]
        if not supported:
            return (
                f"No condition in the window comes with a significantly higher {defect_class} "
                f"rate ({len(hypotheses)} checked); treat as an isolated defect."
            )
        best = supported[0]
        others = ", ".join(f"{h.factor} = {h.level}" for h in supported[1:3])
        tail = f" Also elevated: {others}." if others else ""
        return f"Most likely cause: {best.statement}.{tail}"
