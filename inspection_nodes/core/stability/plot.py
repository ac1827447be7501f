"""Small pictures for people, drawn with cv2 (no plotting library on the station).

- `render_index`: the stability index over the last reports with the watch / recalibrate lines
  and one bar per component; the stability node publishes it as an Image for rqt.
- `render_histogram`: image scores of good units before and after a recalibration with both
  thresholds; written beside the new model version as evidence of what changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from inspection_nodes.core.stability.index import Level, StabilityConfig, StabilityState

WHITE = (255, 255, 255)
DARK = (40, 40, 40)
GRID = (200, 200, 200)
LEVEL_COLOURS = {
    Level.OK: (46, 160, 67),
    Level.WATCH: (230, 150, 0),
    Level.RECALIBRATE: (214, 39, 40),
}
BEFORE, AFTER = (31, 119, 180), (255, 127, 14)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text(img: np.ndarray, text: str, org: tuple[int, int], colour=DARK, scale=0.4) -> None:
    cv2.putText(img, text, org, FONT, scale, colour, 1, cv2.LINE_AA)


def _hline(img: np.ndarray, y: int, x0: int, x1: int, colour, dash: int = 6) -> None:
    for x in range(x0, x1, 2 * dash):
        cv2.line(img, (x, y), (min(x + dash, x1), y), colour, 1)


def render_index(
    history: Sequence[float],
    state: StabilityState,
    config: StabilityConfig,
    size: tuple[int, int] = (480, 320),
) -> np.ndarray:
    """uint8 RGB (H, W, 3): index history (top) and the current components (bottom).

    Args:
        history: index values of past reports, oldest first (the last one is `state.index`).
        size: (width, height) in pixels.
    """
    width, height = size
    img = np.full((height, width, 3), 255, np.uint8)
    colour = LEVEL_COLOURS[state.level]
    source = f", baseline {state.baseline_source}" if state.baseline_source else ""
    title = f"stability {state.index:.2f} {state.level.name} ({state.units} units{source})"
    _text(img, title, (8, 16), colour, 0.45)
    left, right, top, bottom = 36, width - 8, 24, int(height * 0.55)
    y_max = max(1.5 * config.recalibrate_at, *(v for v in history if np.isfinite(v)), 1e-6)

    def y_of(value: float) -> int:
        value = min(max(value, 0.0), y_max) if np.isfinite(value) else y_max
        return round(float(bottom - (bottom - top) * value / y_max))

    cv2.rectangle(img, (left, top), (right, bottom), GRID, 1)
    limits = ((config.watch_at, Level.WATCH), (config.recalibrate_at, Level.RECALIBRATE))
    for limit, level in limits:
        _hline(img, y_of(limit), left, right, LEVEL_COLOURS[level])
        _text(img, f"{limit:g}", (4, y_of(limit) + 4), LEVEL_COLOURS[level], 0.35)
    if len(history) >= 2:
        xs = np.linspace(left, right, len(history)).round().astype(np.int32)
        points = np.stack([xs, [y_of(v) for v in history]], axis=1).astype(np.int32)
        cv2.polylines(img, [points], False, DARK, 1, cv2.LINE_AA)
    names = list(state.components)
    row = (height - bottom - 12) / max(len(names), 1)
    bar_left, bar_right = left + 90, right - 70
    full_scale = 2.0 * config.recalibrate_at
    for i, name in enumerate(names):
        value, normalised = state.components[name]
        y = int(bottom + 10 + i * row)
        h = max(int(row) - 4, 2)
        frac = min(normalised, full_scale) / full_scale if np.isfinite(normalised) else 1.0
        bar_colour = LEVEL_COLOURS[config.level(normalised)]
        x_bar = bar_left + int(frac * (bar_right - bar_left))
        cv2.rectangle(img, (bar_left, y), (x_bar, y + h), bar_colour, -1)
        x_limit = bar_left + int((bar_right - bar_left) * config.recalibrate_at / full_scale)
        cv2.line(img, (x_limit, y), (x_limit, y + h), LEVEL_COLOURS[Level.RECALIBRATE], 1)
        _text(img, name, (4, y + h - 1), DARK, 0.35)
        _text(img, f"{value:.3g} ({normalised:.2f})", (bar_right + 4, y + h - 1), DARK, 0.35)
    return img


def render_histogram(
    before: np.ndarray,
    after: np.ndarray,
    threshold_before: float,
    threshold_after: float,
    title: str,
    size: tuple[int, int] = (640, 360),
    bins: int = 24,
) -> np.ndarray:
    """uint8 RGB histogram of two score samples with their thresholds (vertical lines)."""
    before = np.asarray(before, np.float64).ravel()
    after = np.asarray(after, np.float64).ravel()
    values = np.concatenate([before, after, [threshold_before, threshold_after]])
    values = values[np.isfinite(values)]
    lo, hi = float(values.min()), float(values.max())
    hi = hi if hi > lo else lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    counts = [np.histogram(s, edges)[0] for s in (before, after)]
    width, height = size
    img = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 40, width - 12, 48, height - 34
    cv2.rectangle(img, (left, top), (right, bottom), GRID, 1)
    peak = max(1, *(int(c.max()) for c in counts if c.size))

    def x_of(value: float) -> int:
        return round(float(left + (right - left) * (value - lo) / (hi - lo)))

    step = (right - left) / bins
    for k, (count, colour) in enumerate(zip(counts, (BEFORE, AFTER), strict=True)):
        for i, c in enumerate(count):
            if c == 0:
                continue
            x0 = int(left + i * step + k * step / 2)
            y0 = int(bottom - (bottom - top) * c / peak)
            cv2.rectangle(img, (x0, y0), (int(x0 + step / 2) - 1, bottom), colour, -1)
    for row, (value, colour, label) in enumerate(
        (
            (threshold_before, BEFORE, "threshold before"),
            (threshold_after, AFTER, "threshold after"),
        )
    ):
        if np.isfinite(value):
            x = x_of(value)
            cv2.line(img, (x, top), (x, bottom), colour, 2)
            _text(
                img, f"{label} {value:.2f}", (min(x + 3, right - 150), top + 12 + 14 * row), colour
            )
    _text(img, title, (8, 16), DARK, 0.45)
    _text(img, f"before: parent model, {before.size} units", (8, 34), BEFORE)
    _text(img, f"after: {after.size} held-out units, new normal", (300, 34), AFTER)
    _text(img, f"{lo:.2f}", (left, height - 14))
    _text(img, f"{hi:.2f}", (right - 40, height - 14))
    _text(img, "image score", ((left + right) // 2 - 30, height - 14))
    _text(img, str(peak), (4, top + 10))
    return img
