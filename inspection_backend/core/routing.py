"""Routing policy: which workflow a failed unit gets, decided from its verdict alone.

A station's policy is a small YAML file with a version (see `config/backend/routing/`). The
decision is a pure function of the verdict's facts, the policy and the number of similar
failures before it on the same cell (counted by capture stamp, not arrival), so replaying a case
with the policy version recorded on it gives the same route. Precedence, first match wins:

1. CRITICAL: a confirmed severe defect (score far above the threshold, a large anomalous area,
   or a confident detection of a critical class) -> line hold + root cause + NCR;
2. RECURRING: the N-th similar failure (same cell, same defect class) within a window ->
   maintenance alert (once per burst: the N+1-th and later ones in the window route on);
3. REVIEW: borderline (score just above the threshold, a low-confidence detection) or not
   really inspected (a fail-safe FAIL with no score) -> human review queue;
4. LOG: everything else is recorded and counted.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import yaml

ANOMALY_CLASS = "anomaly"


class Route(StrEnum):
    CRITICAL = "critical"
    RECURRING = "recurring"
    REVIEW = "review"
    LOG = "log"


@dataclass(frozen=True)
class CriticalRule:
    score_ratio: float = math.inf
    area_ratio: float = math.inf
    classes: frozenset[str] = frozenset()
    min_class_confidence: float = 0.5


@dataclass(frozen=True)
class ReviewRule:
    margin: float = 0.0
    min_class_confidence: float = 0.0
    unscored: bool = True


@dataclass(frozen=True)
class RecurringRule:
    count: int = 0
    window_s: float = 0.0

    @property
    def enabled(self) -> bool:
        return self.count > 1 and self.window_s > 0


@dataclass(frozen=True)
class RoutingPolicy:
    """One station's policy; `text` and `sha256` are what was loaded, for the audit trail."""

    station: str
    version: int
    critical: CriticalRule
    review: ReviewRule
    recurring: RecurringRule
    text: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @classmethod
    def from_yaml(cls, text: str) -> RoutingPolicy:
        """Parse and validate; raises ValueError naming the bad key."""
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"routing policy is not YAML: {exc}") from exc
        if not isinstance(doc, dict):
            raise ValueError("routing policy must be a mapping")
        unknown = set(doc) - {"station", "version", "critical", "review", "recurring"}
        if unknown:
            raise ValueError(f"routing policy: unknown keys {sorted(unknown)}")
        station, version = doc.get("station"), doc.get("version")
        if not isinstance(station, str) or not station:
            raise ValueError("routing policy: station must be a non-empty string")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ValueError("routing policy: version must be an integer >= 1")
        critical = _section(
            doc, "critical", ("score_ratio", "area_ratio", "classes", "min_class_confidence")
        )
        review = _section(doc, "review", ("margin", "min_class_confidence", "unscored"))
        recurring = _section(doc, "recurring", ("count", "window_s"))
        policy = cls(
            station=station,
            version=version,
            critical=CriticalRule(
                score_ratio=_number(critical, "score_ratio", math.inf, 1.0),
                area_ratio=_number(critical, "area_ratio", math.inf, 0.0),
                classes=frozenset(_strings(critical, "classes")),
                min_class_confidence=_number(critical, "min_class_confidence", 0.5, 0.0, 1.0),
            ),
            review=ReviewRule(
                margin=_number(review, "margin", 0.0, 0.0),
                min_class_confidence=_number(review, "min_class_confidence", 0.0, 0.0, 1.0),
                unscored=bool(review.get("unscored", True)),
            ),
            recurring=RecurringRule(
                count=int(_number(recurring, "count", 0, 0)),
                window_s=_number(recurring, "window_s", 0.0, 0.0),
            ),
            text=text,
        )
        return policy


def _section(doc: Mapping[str, Any], name: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    section = doc.get(name) or {}
    if not isinstance(section, dict):
        raise ValueError(f"routing policy: {name} must be a mapping")
    unknown = set(section) - set(keys)
    if unknown:
        raise ValueError(f"routing policy: {name} has unknown keys {sorted(unknown)}")
    return section


def _number(
    section: Mapping[str, Any], key: str, default: float, low: float, high: float = math.inf
) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"routing policy: {key} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"routing policy: {key}={value} outside [{low}, {high}]")
    return float(value)


def _strings(section: Mapping[str, Any], key: str) -> list[str]:
    value = section.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"routing policy: {key} must be a list of class names")
    return value


@dataclass(frozen=True)
class VerdictFacts:
    """What routing looks at in a verdict (absent optional fields are None / empty)."""

    score: float | None
    image_threshold: float | None
    area_ratio: float | None
    detections: tuple[tuple[str, float], ...]  # (class_name, confidence)

    @property
    def defect_class(self) -> str:
        """The most confident detection's class, else the anomaly path's generic class."""
        if not self.detections:
            return ANOMALY_CLASS
        return max(self.detections, key=lambda d: (d[1], d[0]))[0]

    @property
    def score_ratio(self) -> float | None:
        if self.score is None or not self.image_threshold or self.image_threshold <= 0:
            return None
        return self.score / self.image_threshold


def facts_of(
    score: float | None,
    image_threshold: float | None,
    area_ratio: float | None,
    detections: Sequence[tuple[str, float]] | None,
) -> VerdictFacts:
    return VerdictFacts(score, image_threshold, area_ratio, tuple(detections or ()))


@dataclass(frozen=True)
class RouteDecision:
    route: Route
    defect_class: str
    reason: str


def decide_route(policy: RoutingPolicy, facts: VerdictFacts, similar_before: int) -> RouteDecision:
    """The route of one FAIL; `similar_before` = earlier FAILs of the same class on the same cell
    within the policy's recurring window."""
    cls = facts.defect_class
    ratio = facts.score_ratio
    crit = policy.critical
    critical_hits = [
        f"{name} {conf:.2f} >= {crit.min_class_confidence:.2f}"
        for name, conf in facts.detections
        if name in crit.classes and conf >= crit.min_class_confidence
    ]
    if critical_hits:
        return RouteDecision(Route.CRITICAL, cls, "critical class: " + ", ".join(critical_hits))
    if ratio is not None and ratio >= crit.score_ratio:
        return RouteDecision(
            Route.CRITICAL, cls, f"score {ratio:.2f} x threshold >= {crit.score_ratio:g}"
        )
    if facts.area_ratio is not None and facts.area_ratio >= crit.area_ratio:
        return RouteDecision(
            Route.CRITICAL, cls, f"anomalous area {facts.area_ratio:.4f} >= {crit.area_ratio:g}"
        )
    rec = policy.recurring
    if rec.enabled and similar_before + 1 == rec.count:
        return RouteDecision(
            Route.RECURRING,
            cls,
            f"{similar_before + 1} {cls} failures within {rec.window_s:g} s (limit {rec.count})",
        )
    review = policy.review
    if ratio is None and review.unscored:
        return RouteDecision(Route.REVIEW, cls, "no score: not fully inspected, needs a person")
    if ratio is not None and ratio < 1.0 + review.margin:
        return RouteDecision(
            Route.REVIEW, cls, f"borderline: score {ratio:.3f} x threshold < {1 + review.margin:g}"
        )
    weak = [f"{n} {c:.2f}" for n, c in facts.detections if c < review.min_class_confidence]
    if weak:
        return RouteDecision(Route.REVIEW, cls, "low-confidence detection: " + ", ".join(weak))
    return RouteDecision(Route.LOG, cls, "failed, not critical, not borderline, not recurring")


def is_critical(policy: RoutingPolicy, facts: VerdictFacts) -> bool:
    """Critical comes first and does not depend on earlier failures, so ingest can tell it at
    once and put the unit at the head of the dispatcher's queue."""
    return decide_route(policy, facts, 0).route is Route.CRITICAL
