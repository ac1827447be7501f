"""Gate configuration and the rules that judge one view of a unit.

Kept apart from the unit bookkeeping in `core/gate/gate.py` so each rule can be tested as a pure
function: same inputs and config, same reasons, in the same order (rule order is the documented
precedence, see the gate section of README.md).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace

# Thresholds a recipe (SOP) may override and `gate/set_threshold` may change, with their types.
TUNABLE: dict[str, type] = {
    "score_threshold": float,
    "score_threshold_scale": float,
    "min_area_px": int,
    "min_area_mm2": float,
    "fail_views_required": int,
}


@dataclass(frozen=True)
class ClassRule:
    """FAIL a view when a detection of `class_name` ("*" = any class) reaches both limits."""

    class_name: str
    min_confidence: float
    min_area_px: float = 0.0

    @classmethod
    def parse(cls, text: str) -> ClassRule:
        """`class:min_confidence[:min_box_area_px]`, e.g. `scratch:0.4:120` or `*:0.5`."""
        parts = text.split(":")
        if len(parts) not in (2, 3) or not parts[0].strip():
            raise ValueError(
                f"class rule {text!r}: expected 'class:min_confidence[:min_box_area_px]'"
            )
        try:
            numbers = [float(p) for p in parts[1:]]
        except ValueError:
            raise ValueError(f"class rule {text!r}: limits must be numbers") from None
        rule = cls(parts[0].strip(), *numbers)
        if not 0.0 <= rule.min_confidence <= 1.0:
            raise ValueError(f"class rule {text!r}: min_confidence must be in [0, 1]")
        if not rule.min_area_px >= 0.0:
            raise ValueError(f"class rule {text!r}: min_box_area_px must be >= 0")
        return rule


@dataclass(frozen=True)
class GateConfig:
    """Station rules of the gate. `validate()` names the first bad value; the node exits on it."""

    deadline_ms: float = 200.0
    score_threshold: float = 0.0
    score_threshold_scale: float = 1.0
    min_area_px: int = 0
    min_area_mm2: float = 0.0
    mm_per_px: float = 0.0
    views_per_unit: int = 1
    fail_views_required: int = 1
    expected_model_version: str = ""
    expected_detector_version: str = ""
    require_detections: bool = False
    class_rules: tuple[ClassRule, ...] = (ClassRule("*", 0.5),)
    recipe: str = ""
    recipes: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def validate(self) -> GateConfig:
        """Raise ValueError with the parameter name and the allowed range; return self."""
        checks = (
            ("deadline_ms", self.deadline_ms > 0.0, "must be > 0"),
            ("score_threshold", self.score_threshold >= 0.0, "must be >= 0 (0 = model's)"),
            ("score_threshold_scale", self.score_threshold_scale > 0.0, "must be > 0"),
            ("min_area_px", self.min_area_px >= 0, "must be >= 0 (0 = off)"),
            ("min_area_mm2", self.min_area_mm2 >= 0.0, "must be >= 0 (0 = off)"),
            ("mm_per_px", self.mm_per_px >= 0.0, "must be >= 0"),
            ("views_per_unit", self.views_per_unit >= 1, "must be >= 1"),
            (
                "fail_views_required",
                1 <= self.fail_views_required <= self.views_per_unit,
                f"must be in [1, views_per_unit={self.views_per_unit}]",
            ),
            (
                "min_area_mm2",
                self.min_area_mm2 == 0.0 or self.mm_per_px > 0.0,
                "needs mm_per_px > 0",
            ),
            (
                "recipe",
                not self.recipe or self.recipe in self.recipes,
                f"unknown recipe; known: {sorted(self.recipes) or 'none'}",
            ),
        )
        for name, ok, why in checks:
            value = getattr(self, name)
            if not ok or (isinstance(value, float) and not math.isfinite(value)):
                raise ValueError(f"gate parameter {name}={value!r} {why}")
        for recipe, overrides in self.recipes.items():
            for key in overrides:
                if key not in TUNABLE:
                    raise ValueError(
                        f"recipe {recipe!r}: {key!r} cannot be overridden; "
                        f"allowed: {', '.join(TUNABLE)}"
                    )
        if self.recipe:
            replace(self.effective(), recipe="", recipes={}).validate()
        return self

    def effective(self) -> GateConfig:
        """The rules in force: the active recipe's overrides on top of the station values."""
        overrides = self.recipes.get(self.recipe, {})
        return replace(self, **{k: TUNABLE[k](v) for k, v in overrides.items()})

    def value(self, name: str) -> float:
        """Current value of a tunable threshold as it is in force (recipe applied)."""
        if name not in TUNABLE:
            raise ValueError(f"{name!r} is not a tunable threshold; allowed: {', '.join(TUNABLE)}")
        return float(getattr(self.effective(), name))

    def with_value(self, name: str, value: float) -> GateConfig:
        """Change a threshold where it is in force: in the active recipe if it overrides `name`."""
        self.value(name)  # names the allowed thresholds when `name` is not one
        kind = TUNABLE[name]
        if kind is int and float(value) != int(value):
            raise ValueError(f"{name} must be a whole number, got {value}")
        if self.recipe and name in self.recipes.get(self.recipe, {}):
            recipes = {k: dict(v) for k, v in self.recipes.items()}
            recipes[self.recipe][name] = kind(value)
            return replace(self, recipes=recipes).validate()
        return replace(self, **{name: kind(value)}).validate()

    @property
    def version(self) -> str:
        """Short hash of every rule value: a Verdict names exactly which rules judged it."""
        data = asdict(self)
        data["recipes"] = {k: dict(sorted(v.items())) for k, v in sorted(self.recipes.items())}
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def min_area_limit_px(self) -> float:
        """The area rule in pixels (mm^2 converted with mm_per_px); the larger limit wins."""
        mm2 = self.min_area_mm2 / (self.mm_per_px**2) if self.min_area_mm2 > 0 else 0.0
        return max(float(self.min_area_px), mm2)


def parse_recipes(entries: Sequence[str]) -> dict[str, dict[str, float]]:
    """`recipe.key=value` entries (blank ones ignored) into {recipe: {key: value}}."""
    recipes: dict[str, dict[str, float]] = {}
    for entry in entries:
        if not entry.strip():
            continue
        head, sep, value = entry.partition("=")
        recipe, dot, key = head.strip().rpartition(".")
        if not sep or not dot or not recipe or not key:
            raise ValueError(f"recipe override {entry!r}: expected 'recipe.threshold=value'")
        try:
            recipes.setdefault(recipe, {})[key] = float(value)
        except ValueError:
            raise ValueError(f"recipe override {entry!r}: value must be a number") from None
    return recipes


@dataclass(frozen=True)
class ScoreResult:
    """The anomaly scorer's verdict inputs for one view (from AnomalyResult)."""

    stamp_ns: int
    unit_id: str
    model_version: str
    score: float
    image_threshold: float
    largest_region_px: int
    timings: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Detection:
    class_name: str
    confidence: float
    area_px: float


@dataclass(frozen=True)
class DetectionSet:
    """All known-defect detections of one view (an empty tuple is a valid "nothing found")."""

    stamp_ns: int
    unit_id: str
    model_version: str
    detections: tuple[Detection, ...] = ()


def score_limit(config: GateConfig, result: ScoreResult) -> float:
    """Image threshold in force: the station's fixed value, else the model's calibrated one."""
    if config.score_threshold > 0.0:
        return config.score_threshold
    return result.image_threshold * config.score_threshold_scale


def input_faults(config: GateConfig, result: ScoreResult) -> list[str]:
    """Fail-safe checks of a score result: any fault FAILs the whole unit."""
    faults = []
    if not math.isfinite(result.score) or not math.isfinite(result.image_threshold):
        faults.append(f"malformed: score={result.score} image_threshold={result.image_threshold}")
    elif config.score_threshold <= 0.0 and result.image_threshold <= 0.0:
        faults.append(f"malformed: model image_threshold={result.image_threshold} is not > 0")
    if config.expected_model_version and result.model_version != config.expected_model_version:
        faults.append(
            f"model version {result.model_version!r} != expected {config.expected_model_version!r}"
        )
    return faults


def detection_faults(config: GateConfig, found: DetectionSet) -> list[str]:
    faults = []
    expected = config.expected_detector_version
    if expected and found.model_version != expected:
        faults.append(f"detector version {found.model_version!r} != expected {expected!r}")
    for det in found.detections:
        if not (math.isfinite(det.confidence) and math.isfinite(det.area_px)):
            faults.append(f"malformed detection {det.class_name!r}: {det}")
    return faults


def class_rule(config: GateConfig, class_name: str) -> ClassRule | None:
    """The rule for a class: its own rule wins over the "*" rule, whatever the list order."""
    by_name = {r.class_name: r for r in config.class_rules}
    return by_name.get(class_name, by_name.get("*"))


def view_reasons(
    config: GateConfig, result: ScoreResult, found: DetectionSet | None
) -> tuple[bool, list[str]]:
    """Judge one view that passed the fail-safe checks: (failed, reasons in rule order)."""
    reasons = []
    limit = score_limit(config, result)
    area_limit = config.min_area_limit_px
    anomalous = result.score > limit
    if anomalous and result.largest_region_px < area_limit:
        anomalous = False
        reasons.append(
            f"area: largest region {result.largest_region_px} px < {area_limit:g} px, "
            f"score {result.score:.4g} > {limit:.4g} ignored"
        )
    elif anomalous:
        reasons.append(f"score: {result.score:.4g} > {limit:.4g}")
        if area_limit > 0:
            reasons.append(f"area: largest region {result.largest_region_px} px >= {area_limit:g}")
    failed = anomalous
    for det in found.detections if found else ():
        rule = class_rule(config, det.class_name)
        if rule and det.confidence >= rule.min_confidence and det.area_px >= rule.min_area_px:
            failed = True
            reasons.append(
                f"class {det.class_name}: confidence {det.confidence:.3f} >= "
                f"{rule.min_confidence:g}, area {det.area_px:g} px >= {rule.min_area_px:g}"
            )
    return failed, reasons
