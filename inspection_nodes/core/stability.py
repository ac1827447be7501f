"""Stability index: how far the station's recent "normal" has moved from its reference window.

Components, each normalised so 1.0 means "at its alert limit":
  score_p95     (p95 of recent scores - reference p95) / (image threshold - reference p95)
  luminance     |recent mean ROI luminance - reference| / luminance_limit
  false_rejects operator-overridden FAILs in the window / false_reject_limit
The index is the largest component (one bad input is enough to act on); level = ok below
`watch_at`, watch below `recalibrate_at`, recalibrate above. The reference is the first
`reference_units` units after start or recalibration, so the index starts at 0 by construction.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

LEVELS = ("ok", "watch", "recalibrate")


@dataclass(frozen=True)
class StabilityConfig:
    window: int = 50
    reference_units: int = 30
    luminance_limit: float = 25.0
    false_reject_limit: float = 0.05
    watch_at: float = 0.5
    recalibrate_at: float = 1.0

    def __post_init__(self) -> None:
        if self.window < 5 or self.reference_units < 5:
            raise ValueError("window and reference_units must be >= 5")
        if not 0 < self.watch_at < self.recalibrate_at:
            raise ValueError(
                f"need 0 < watch_at < recalibrate_at, got {self.watch_at}, {self.recalibrate_at}"
            )
        if self.luminance_limit <= 0 or self.false_reject_limit <= 0:
            raise ValueError("luminance_limit and false_reject_limit must be > 0")


@dataclass(frozen=True)
class StabilityState:
    units: int
    index: float
    level: str
    components: dict[str, tuple[float, float]]  # name -> (raw value, normalised)


class StabilityMonitor:
    def __init__(self, config: StabilityConfig) -> None:
        self.config = config
        self._scores: deque[float] = deque(maxlen=config.window)
        self._luma: deque[float] = deque(maxlen=config.window)
        self._overrides: deque[bool] = deque(maxlen=config.window)
        self._ref_scores: list[float] = []
        self._ref_luma: list[float] = []
        self._threshold = float("nan")

    def reset_reference(self) -> None:
        """After recalibration the new normal becomes the reference."""
        self._ref_scores.clear()
        self._ref_luma.clear()

    def add_score(self, score: float, image_threshold: float) -> None:
        if not np.isfinite(score):
            return
        self._threshold = image_threshold
        self._scores.append(score)
        if len(self._ref_scores) < self.config.reference_units:
            self._ref_scores.append(score)

    def add_luminance(self, mean_luma: float) -> None:
        self._luma.append(mean_luma)
        if len(self._ref_luma) < self.config.reference_units:
            self._ref_luma.append(mean_luma)

    def add_disposition(self, false_reject: bool) -> None:
        self._overrides.append(false_reject)

    def state(self) -> StabilityState:
        cfg = self.config
        comps: dict[str, tuple[float, float]] = {}
        if len(self._ref_scores) >= cfg.reference_units and self._scores:
            ref = float(np.percentile(self._ref_scores, 95))
            now = float(np.percentile(self._scores, 95))
            span = max(self._threshold - ref, 1e-6)
            comps["score_p95"] = (now, max(0.0, (now - ref) / span))
        if len(self._ref_luma) >= cfg.reference_units and self._luma:
            shift = abs(float(np.mean(self._luma)) - float(np.mean(self._ref_luma)))
            comps["luminance"] = (shift, shift / cfg.luminance_limit)
        if self._overrides:
            rate = sum(self._overrides) / len(self._overrides)
            comps["false_rejects"] = (rate, rate / cfg.false_reject_limit)
        index = max((n for _, n in comps.values()), default=0.0)
        level = (
            LEVELS[2]
            if index >= cfg.recalibrate_at
            else LEVELS[1]
            if index >= cfg.watch_at
            else LEVELS[0]
        )
        return StabilityState(len(self._scores), index, level, comps)
