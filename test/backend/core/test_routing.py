"""Routing policy: parsing/validation and the route of each kind of FAIL (pure, no database)."""

from __future__ import annotations

import pytest

from inspection_backend.core.routing import (
    ANOMALY_CLASS,
    Route,
    RoutingPolicy,
    VerdictFacts,
    decide_route,
)

POLICY = """
station: bottle
version: 2
critical: {score_ratio: 2.0, area_ratio: 0.05, classes: [crack], min_class_confidence: 0.6}
review: {margin: 0.15, min_class_confidence: 0.5, unscored: true}
recurring: {count: 3, window_s: 600}
"""


@pytest.fixture(scope="module")
def policy() -> RoutingPolicy:
    return RoutingPolicy.from_yaml(POLICY)


def facts(score=3.0, threshold=2.0, area=None, detections=()) -> VerdictFacts:
    return VerdictFacts(score, threshold, area, tuple(detections))


@pytest.mark.parametrize(
    ("verdict", "similar", "route", "reason_part"),
    [
        (facts(score=5.0), 0, Route.CRITICAL, "score 2.50"),
        (facts(area=0.08), 0, Route.CRITICAL, "anomalous area"),
        (facts(detections=[("crack", 0.9)]), 0, Route.CRITICAL, "critical class: crack"),
        (facts(detections=[("crack", 0.55)]), 0, Route.LOG, "not critical"),
        (facts(score=3.0), 2, Route.RECURRING, "3 anomaly failures"),
        (facts(score=3.0), 3, Route.LOG, "not critical"),  # alerted once per burst
        (facts(score=2.1), 0, Route.REVIEW, "borderline"),
        (facts(score=1.5), 0, Route.REVIEW, "borderline"),  # failed by another rule
        (facts(score=None, threshold=None), 0, Route.REVIEW, "no score"),
        (facts(detections=[("dent", 0.3)]), 0, Route.REVIEW, "low-confidence detection"),
        (facts(score=3.0), 0, Route.LOG, "not critical"),
    ],
)
def test_routes(policy, verdict, similar, route, reason_part):
    decision = decide_route(policy, verdict, similar)
    assert decision.route is route
    assert reason_part in decision.reason


def test_critical_beats_recurring_beats_review(policy):
    assert decide_route(policy, facts(score=5.0), 2).route is Route.CRITICAL
    assert decide_route(policy, facts(score=2.1), 2).route is Route.RECURRING


def test_defect_class_is_the_most_confident_detection(policy):
    assert facts().defect_class == ANOMALY_CLASS
    assert facts(detections=[("dent", 0.7), ("scratch", 0.8)]).defect_class == "scratch"


def test_same_inputs_same_route(policy):
    verdict = facts(score=2.2, detections=[("dent", 0.45)])
    assert {decide_route(policy, verdict, 1) for _ in range(5)} == {
        decide_route(policy, verdict, 1)
    }


def test_policy_keeps_its_text_and_hash(policy):
    assert policy.version == 2 and policy.station == "bottle"
    assert policy.text == POLICY and len(policy.sha256) == 64


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "must be a mapping"),
        ("station: s\nversion: 0\n", "version must be an integer >= 1"),
        ("version: 1\n", "station must be a non-empty string"),
        ("station: s\nversion: 1\nrouting: {}\n", "unknown keys ['routing']"),
        ("station: s\nversion: 1\ncritical: {score_ratio: 0.5}\n", "score_ratio=0.5 outside"),
        ("station: s\nversion: 1\nreview: {margn: 0.1}\n", "review has unknown keys"),
        ("station: s\nversion: 1\ncritical: {classes: crack}\n", "classes must be a list"),
        ("station: s\nversion: 1\nreview: {margin: yes}\n", "margin must be a number"),
        ("station: [\n", "not YAML"),
    ],
)
def test_bad_policies_are_refused_with_the_key(text, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        RoutingPolicy.from_yaml(text)
