"""Stability index: how far the station's recent "normal" has moved from its model's baseline.

Every component is computed over a rolling window of the last `window` units and normalised so
that 1.0 means "at its alert limit" (the raw value is reported beside it):

  score_p50       (p50 of window scores - baseline p50) / gap / score_p50_limit
  score_p95       (p95 of window scores - baseline p95) / gap / score_p95_limit
                  gap = image threshold - baseline p50 (how far a typical good unit is from
                  FAIL); only upward moves count (lower scores are not a risk)
  centroid_shift  distance of the window's feature centroid from the baseline centroid (PPCA
                  Mahalanobis, 1.0 = a typical single good unit, core/stability/baseline.py)
                  / centroid_limit
  centroid_change same distance between the window centroid and the reference centroid (the
                  first `reference_units` units after start-up or a model switch)
                  / change_limit; catches a sudden change (a knocked camera) that is smaller
                  than the enrollment-to-production spread of parts that vary a lot in pose
  luminance       |window mean luma / baseline luma - 1| / luminance_limit (value: signed)
  colour          |window chromaticity - baseline chromaticity| / colour_limit
  false_rejects   operator FALSE_REJECT dispositions over the last `window` units / window
                  / false_reject_limit

    index = max(normalised components)        (one bad component is enough to act on)
    level = ok < watch_at <= watch < recalibrate_at <= recalibrate

A component appears once its window is full, so a report never rests on a handful of units.
Without a baseline file (models enrolled before baselines existed) the reference window is the
baseline (source "reference") and centroid_change, then identical to centroid_shift, is left out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from inspection_nodes.core.stability.baseline import (
    Baseline,
    feature_centroid,
    fit_baseline,
    image_stats,
)


class Level(IntEnum):
    """Alert level of the index; the codes are StabilityReport's OK, WATCH, RECALIBRATE."""

    OK = 0
    WATCH = 1
    RECALIBRATE = 2


COMPONENTS = (
    "score_p50",
    "score_p95",
    "centroid_shift",
    "centroid_change",
    "luminance",
    "colour",
    "false_rejects",
)


@dataclass(frozen=True)
class StabilityConfig:
    """Window sizes, the raw value of each component that counts as 1.0, and the level limits.

    The defaults are the one configuration used for every station (docs/stability.md).
    """

    window: int = 30
    reference_units: int = 30
    score_p50_limit: float = 1.0
    score_p95_limit: float = 2.5
    centroid_limit: float = 1.5
    change_limit: float = 1.0
    luminance_limit: float = 0.10
    colour_limit: float = 0.05
    false_reject_limit: float = 0.05
    watch_at: float = 0.5
    recalibrate_at: float = 1.0

    def __post_init__(self) -> None:
        if self.window < 5 or self.reference_units < 5:
            raise ValueError(
                f"window and reference_units must be >= 5, got {self.window}, "
                f"{self.reference_units}"
            )
        limits = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name.endswith("_limit")
        }
        bad = [f"{k}={v}" for k, v in limits.items() if not v > 0]
        if bad:
            raise ValueError(f"component limits must be > 0: {', '.join(bad)}")
        if not 0 < self.watch_at < self.recalibrate_at:
            raise ValueError(
                f"need 0 < watch_at < recalibrate_at, got {self.watch_at}, {self.recalibrate_at}"
            )

    def level(self, index: float) -> Level:
        """OK / WATCH / RECALIBRATE for an index value (NaN is treated as RECALIBRATE)."""
        if not index < self.recalibrate_at:
            return Level.RECALIBRATE
        return Level.WATCH if index >= self.watch_at else Level.OK


@dataclass(frozen=True)
class StabilityState:
    """One report: units in the window, index, level and every available component."""

    units: int
    index: float
    level: Level
    components: dict[str, tuple[float, float]]  # name -> (raw value, normalised)
    baseline_source: str  # enrollment / recalibration / reference / "" (reference filling)


class StabilityMonitor:
    """Rolling-window drift statistics of one model version against its baseline. Pure logic."""

    def __init__(self, config: StabilityConfig, baseline: Baseline | None = None) -> None:
        self.config = config
        self.reset(baseline)

    def reset(self, baseline: Baseline | None = None) -> None:
        """Start over (start-up, recalibration, model switch): empty windows and reference."""
        cfg = self.config
        self.baseline = baseline
        self._scores: deque[float] = deque(maxlen=cfg.window)
        self._centroids: deque[np.ndarray] = deque(maxlen=cfg.window)
        self._luma: deque[float] = deque(maxlen=cfg.window)
        self._chroma: deque[np.ndarray] = deque(maxlen=cfg.window)
        self._ref_scores: list[float] = []
        self._ref_centroids: list[np.ndarray] = []
        self._ref_stats: list[tuple[float, np.ndarray]] = []
        self._threshold = float("nan") if baseline is None else baseline.image_threshold
        self._units = 0
        self._false_rejects: deque[int] = deque()

    @property
    def model_version(self) -> str:
        return "" if self.baseline is None else self.baseline.model_version

    def add_result(self, score: float, image_threshold: float) -> None:
        """Image score of one unit; non-finite scores (failed units) are not statistics."""
        self._units += 1
        if not (np.isfinite(score) and np.isfinite(image_threshold)):
            return
        if self.baseline is None or self.baseline.source == "reference":
            self._threshold = float(image_threshold)
        self._scores.append(float(score))
        if len(self._ref_scores) < self.config.reference_units:
            self._ref_scores.append(float(score))
        self._maybe_fix_reference()

    def add_roi(self, rgb: np.ndarray) -> None:
        """ROI of one unit (uint8 RGB) for luminance and colour."""
        stats = image_stats(rgb)
        self._luma.append(stats[0])
        self._chroma.append(stats[1])
        if len(self._ref_stats) < self.config.reference_units:
            self._ref_stats.append(stats)
        self._maybe_fix_reference()

    def add_embedding(self, patches: np.ndarray) -> None:
        """Patch embeddings (h, w, C) of one unit for the feature centroid."""
        centroid = feature_centroid(patches)
        if self.baseline is not None and centroid.shape != self.baseline.features.centroid.shape:
            raise ValueError(
                f"embedding has {centroid.size} channels, the baseline "
                f"{self.baseline.features.centroid.size}"
            )
        self._centroids.append(centroid)
        if len(self._ref_centroids) < self.config.reference_units:
            self._ref_centroids.append(centroid)
        self._maybe_fix_reference()

    def add_disposition(self, false_reject: bool) -> None:
        """An operator review; FALSE_REJECT ones count against the last `window` units."""
        if false_reject:
            self._false_rejects.append(self._units)

    def _maybe_fix_reference(self) -> None:
        """Without a baseline file, the full reference window becomes the baseline."""
        n = self.config.reference_units
        if (
            self.baseline is not None
            or min(len(self._ref_scores), len(self._ref_centroids), len(self._ref_stats)) < n
        ):
            return
        self.baseline = fit_baseline(
            "reference",
            "",
            self._ref_scores,
            self._threshold,
            np.stack(self._ref_centroids),
            self._ref_stats,
        )

    def _full(self, values: deque) -> bool:
        return len(values) == self.config.window

    def state(self) -> StabilityState:
        """Components, index and level now (index 0 and level ok until a window is full)."""
        cfg, base = self.config, self.baseline
        comps: dict[str, tuple[float, float]] = {}
        if base is not None:
            if self._full(self._scores):
                gap = max(self._threshold - base.score_p50, 1e-9)
                for name, q, ref, limit in (
                    ("score_p50", 50, base.score_p50, cfg.score_p50_limit),
                    ("score_p95", 95, base.score_p95, cfg.score_p95_limit),
                ):
                    now = float(np.percentile(self._scores, q))
                    comps[name] = (now, max(0.0, now - ref) / gap / limit)
            if self._full(self._centroids):
                window_centre = np.mean(self._centroids, axis=0)
                shift = base.features.distance(window_centre)
                comps["centroid_shift"] = (shift, shift / cfg.centroid_limit)
                if base.source != "reference" and len(self._ref_centroids) == cfg.reference_units:
                    change = base.features.distance(
                        window_centre, np.mean(self._ref_centroids, axis=0)
                    )
                    comps["centroid_change"] = (change, change / cfg.change_limit)
            if self._full(self._luma):
                relative = float(np.mean(self._luma)) / max(base.luminance, 1e-6) - 1.0
                comps["luminance"] = (relative, abs(relative) / cfg.luminance_limit)
                colour = float(np.linalg.norm(np.mean(self._chroma, axis=0) - base.chroma))
                comps["colour"] = (colour, colour / cfg.colour_limit)
        if self._units >= cfg.window:
            while self._false_rejects and self._false_rejects[0] <= self._units - cfg.window:
                self._false_rejects.popleft()
            rate = len(self._false_rejects) / cfg.window
            comps["false_rejects"] = (rate, rate / cfg.false_reject_limit)
        index = max((n for _, n in comps.values()), default=0.0)
        ordered = {name: comps[name] for name in COMPONENTS if name in comps}
        source = "" if base is None else base.source
        return StabilityState(len(self._scores), index, cfg.level(index), ordered, source)
