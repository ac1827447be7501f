"""The gate: collects every input of a unit and decides PASS or FAIL once, deterministically.

A unit is opened by its CaptureEvent (or on demand by its first input), judged as soon as all its
inputs are in, and FAILed with a reason when its deadline (capture stamp + deadline_ms) passes
first. Every input after the decision is counted and ignored: one unit, one verdict. Time comes
in as arguments (`now_ns`, wall clock like the capture stamps), so the class is pure and tests
replay it exactly.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from inspection_nodes.core.common.counters import EventCounters
from inspection_nodes.core.gate.rules import (
    DetectionSet,
    GateConfig,
    ScoreResult,
    detection_faults,
    input_faults,
    score_limit,
    view_reasons,
)

NS_PER_MS = 1_000_000
# Bounded memory: decided units remembered to recognise late inputs; open units at most.
DECIDED_MEMORY = 8192
MAX_OPEN_UNITS = 4096


class GateCounter(StrEnum):
    """What the Gate counts (the gate node reports them with its own)."""

    PASS = "pass"
    FAIL = "fail"
    INPUT_AFTER_DECISION = "input_after_decision"  # a late or repeated input of a decided unit


@dataclass(frozen=True)
class Decision:
    """The verdict of one unit with every reason, in precedence order."""

    stamp_ns: int
    unit_id: str
    source: str
    passed: bool
    reasons: tuple[str, ...]
    score: float
    image_threshold: float
    model_version: str
    config_version: str
    decided_ns: int
    timings: Mapping[str, float] = field(default_factory=dict)


def failsafe_decision(stamp_ns: int, unit_id: str, reason: str, now_ns: int) -> Decision:
    """A FAIL decided without the Gate, for when the Gate itself is broken: never a PASS."""
    return Decision(stamp_ns, unit_id, "", False, (reason,), math.nan, math.nan, "", "", now_ns)


@dataclass
class _View:
    result: ScoreResult | None = None
    detections: DetectionSet | None = None


@dataclass
class _Unit:
    unit_id: str
    source: str
    stamp_ns: int
    deadline_ns: int
    views: dict[int, _View] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)


class Gate:
    """Unit bookkeeping around the rules of `core/gate/rules.py`."""

    def __init__(self, config: GateConfig, counters: EventCounters | None = None) -> None:
        self._config = config.validate()
        self._effective = config.effective()
        self.counters = counters or EventCounters(GateCounter)
        self._open: OrderedDict[str, _Unit] = OrderedDict()
        self._decided: OrderedDict[str, None] = OrderedDict()

    @property
    def config(self) -> GateConfig:
        return self._config

    def set_config(self, config: GateConfig) -> None:
        """New rules apply to every unit decided from now on, open ones included."""
        self._config = config.validate()
        self._effective = config.effective()

    @property
    def open_units(self) -> int:
        return len(self._open)

    def open_unit(
        self, stamp_ns: int, unit_id: str, now_ns: int, source: str = ""
    ) -> list[Decision]:
        """A unit entered the cell; returns decisions forced by it (overflow, bad stamp)."""
        decisions: list[Decision] = []
        unit = self._unit(stamp_ns, unit_id, now_ns, decisions)
        if unit is not None:
            unit.source = unit.source or source
            unit.unit_id = unit.unit_id or unit_id
            unit.views.setdefault(stamp_ns, _View())
        return decisions

    def add_result(self, result: ScoreResult, now_ns: int) -> list[Decision]:
        decisions: list[Decision] = []
        unit = self._unit(result.stamp_ns, result.unit_id, now_ns, decisions)
        if unit is not None:
            unit.views.setdefault(result.stamp_ns, _View()).result = result
            self._settle(unit, now_ns, decisions)
        return decisions

    def add_detections(self, found: DetectionSet, now_ns: int) -> list[Decision]:
        decisions: list[Decision] = []
        unit = self._unit(found.stamp_ns, found.unit_id, now_ns, decisions)
        if unit is not None:
            unit.views.setdefault(found.stamp_ns, _View()).detections = found
            self._settle(unit, now_ns, decisions)
        return decisions

    def add_rejection(
        self, stamp_ns: int, unit_id: str, stage: str, reason: str, now_ns: int
    ) -> list[Decision]:
        """A stage could not use the unit: FAIL at once with its reason."""
        return self.fail(stamp_ns, unit_id, f"rejected by {stage or '?'}: {reason}", now_ns)

    def fail(self, stamp_ns: int, unit_id: str, reason: str, now_ns: int) -> list[Decision]:
        """FAIL a unit now with `reason` (rejections, and errors of the node around the gate)."""
        decisions: list[Decision] = []
        unit = self._unit(stamp_ns, unit_id, now_ns, decisions)
        if unit is not None:
            unit.views.setdefault(stamp_ns, _View())
            unit.faults.append(reason)
            decisions.append(self._decide(unit, now_ns))
        return decisions

    def expire(self, now_ns: int) -> list[Decision]:
        """FAIL every open unit whose deadline has passed, saying which input is missing."""
        due = [u for u in self._open.values() if now_ns > u.deadline_ns]
        for unit in due:
            unit.faults.append(f"deadline: {self._missing(unit)} after {self._deadline_text()}")
        return [self._decide(unit, now_ns) for unit in due]

    # -- bookkeeping ---------------------------------------------------------------------------

    def _key(self, stamp_ns: int, unit_id: str) -> str:
        """Views of one unit share its unit_id; single-view units join on the capture stamp."""
        return unit_id if self._effective.views_per_unit > 1 and unit_id else str(stamp_ns)

    def _unit(
        self, stamp_ns: int, unit_id: str, now_ns: int, decisions: list[Decision]
    ) -> _Unit | None:
        """The open unit of an input, opened on demand; None when it was already decided."""
        key = self._key(stamp_ns, unit_id)
        if key in self._decided:
            self.counters.inc(GateCounter.INPUT_AFTER_DECISION)
            return None
        unit = self._open.get(key)
        if unit is not None:
            if stamp_ns < unit.stamp_ns:  # a view of a multi-view unit arrived out of order
                unit.deadline_ns -= unit.stamp_ns - stamp_ns
                unit.stamp_ns = stamp_ns
            return unit
        deadline_ns = stamp_ns + int(self._effective.deadline_ms * NS_PER_MS)
        unit = _Unit(unit_id, "", stamp_ns, deadline_ns)
        self._open[key] = unit
        if stamp_ns - now_ns > self._effective.deadline_ms * NS_PER_MS:
            unit.faults.append(
                f"malformed: capture stamp {(stamp_ns - now_ns) / NS_PER_MS:.1f} ms in the future"
            )
        if self._effective.views_per_unit > 1 and not unit_id:
            unit.faults.append("malformed: empty unit_id with views_per_unit > 1")
        while len(self._open) > MAX_OPEN_UNITS:
            oldest = next(iter(self._open.values()))
            oldest.faults.append(f"overflow: more than {MAX_OPEN_UNITS} units open")
            decisions.append(self._decide(oldest, now_ns))
        return unit if self._key(stamp_ns, unit_id) in self._open else None

    def _settle(self, unit: _Unit, now_ns: int, decisions: list[Decision]) -> None:
        """Decide the unit if its inputs are complete, or late, or any is bad."""
        if now_ns > unit.deadline_ns:
            late_ms = (now_ns - unit.stamp_ns) / NS_PER_MS
            unit.faults.append(
                f"deadline: input arrived {late_ms:.1f} ms after capture, "
                f"limit {self._deadline_text()}"
            )
            decisions.append(self._decide(unit, now_ns))
        elif unit.faults or self._complete(unit) or self._has_input_fault(unit):
            decisions.append(self._decide(unit, now_ns))

    def _complete(self, unit: _Unit) -> bool:
        cfg = self._effective
        ready = [
            v
            for v in unit.views.values()
            if v.result is not None and (v.detections is not None or not cfg.require_detections)
        ]
        return len(ready) >= cfg.views_per_unit

    def _has_input_fault(self, unit: _Unit) -> bool:
        """A bad input FAILs at once: waiting for the rest of the unit cannot make it PASS."""
        return any(
            (v.result and input_faults(self._effective, v.result))
            or (v.detections and detection_faults(self._effective, v.detections))
            for v in unit.views.values()
        )

    def _missing(self, unit: _Unit) -> str:
        cfg = self._effective
        results = sum(v.result is not None for v in unit.views.values())
        if results < cfg.views_per_unit:
            if cfg.views_per_unit == 1:
                return "no anomaly result"
            return f"anomaly results for {results} of {cfg.views_per_unit} views"
        return "no detections"

    def _deadline_text(self) -> str:
        return f"{self._effective.deadline_ms:g} ms"

    def _decide(self, unit: _Unit, now_ns: int) -> Decision:
        """Apply the rules in precedence order; any fail-safe fault makes the unit FAIL."""
        cfg = self._effective
        key = self._key(unit.stamp_ns, unit.unit_id)
        self._open.pop(key, None)
        self._decided[key] = None
        while len(self._decided) > DECIDED_MEMORY:
            self._decided.popitem(last=False)
        views = [unit.views[s] for s in sorted(unit.views)]
        results = [v.result for v in views if v.result is not None]
        faults = list(unit.faults)
        for view in views:
            faults += input_faults(cfg, view.result) if view.result else []
            faults += detection_faults(cfg, view.detections) if view.detections else []
        rule_reasons: list[str] = []
        failing = 0
        if not faults:
            judged = [v for v in views if v.result is not None]
            for i, view in enumerate(judged):
                failed, reasons = view_reasons(cfg, view.result, view.detections)
                prefix = f"view {i + 1}/{len(judged)}: " if cfg.views_per_unit > 1 else ""
                rule_reasons += [prefix + r for r in reasons]
                failing += failed
            if cfg.views_per_unit > 1:
                rule_reasons.append(
                    f"persistence: {failing} of {len(judged)} views failed, "
                    f"FAIL needs {cfg.fail_views_required}"
                )
        passed = not faults and failing < cfg.fail_views_required
        scores = [r for r in results if math.isfinite(r.score)]
        top = max(scores, key=lambda r: r.score, default=results[0] if results else None)
        timings: dict[str, float] = {}
        for result in results:
            timings.update(result.timings)
        self.counters.inc(GateCounter.PASS if passed else GateCounter.FAIL)
        return Decision(
            stamp_ns=unit.stamp_ns,
            unit_id=unit.unit_id,
            source=unit.source,
            passed=passed,
            reasons=tuple(faults + rule_reasons),
            score=top.score if top else math.nan,
            image_threshold=score_limit(cfg, top) if top else math.nan,
            model_version=top.model_version if top else "",
            config_version=self._config.version,
            decided_ns=now_ns,
            timings=timings,
        )
