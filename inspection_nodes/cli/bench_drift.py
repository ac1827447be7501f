"""`inspection bench drift`: does the stability index see a global shift early, without false
alerts, and does a guided recalibration bring the model back?

The good test images of an MVTec-layout category are streamed (repeated as needed) through the
engine and the core StabilityMonitor in process, unit by unit, as the stability node sees them:

1. `units_before_shift` units unchanged: every unit at level recalibrate is a false alert;
2. brightness x0.75 (-25 %) until the level reaches recalibrate (detection delay in units);
   then recalibrate (core/anomaly/recalibration.py) with the train/good images under the same
   shift, as a technician running known-good parts would, and stream `units_after` shifted units
   again;
3. on top of that a small camera movement (translation `shift` of the ROI size in x and y,
   rotation `rotation_deg`, border reflected) until detection; recalibrate again from the
   first recalibrated version and stream `units_after` units.

Image AUROC over the whole test split: unshifted with the enrolled model, shifted with the model
in use before each recalibration, shifted with the recalibrated one. The monitor uses the
default StabilityConfig (the same for every data set). Embeddings and scores of a repeated
image are computed once; the monitor still receives every unit.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from inspection_nodes.core.stability.index import Level

BRIGHTNESS = 0.75
SHIFT = 0.04
ROTATION_DEG = 3.0
DETECT_WITHIN = 50
AUROC_TOLERANCE = 0.02


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("drift", help="stability index and recalibration under drift")
    parser.add_argument("--model", required=True, type=Path, help="enrolled model directory")
    parser.add_argument("--data", required=True, type=Path, help="MVTec-layout category DIR")
    parser.add_argument("--json", required=True, type=Path, help="output JSON file")
    parser.add_argument("--units-before-shift", type=int, default=150)
    parser.add_argument("--max-delay", type=int, default=150, help="shifted units to wait")
    parser.add_argument("--units-after", type=int, default=100, help="units after recalibration")
    parser.add_argument(
        "--versions",
        type=Path,
        default=None,
        help="keep the recalibrated versions here (new or empty; default: a temporary dir)",
    )
    parser.set_defaults(func=run)


def brightness(rgb: np.ndarray, factor: float = BRIGHTNESS) -> np.ndarray:
    """A lamp that lost (1 - factor) of its light."""
    return np.clip(rgb.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def camera_shift(
    rgb: np.ndarray, shift: float = SHIFT, rotation_deg: float = ROTATION_DEG
) -> np.ndarray:
    """A knocked camera: the ROI content moves by shift * size and turns by rotation_deg."""
    import cv2

    h, w = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), rotation_deg, 1.0)
    matrix[:, 2] += (shift * w, shift * h)
    return cv2.warpAffine(
        rgb, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )


class DriftStream:
    """The engine in use plus the monitor, with per-image caches (see module docstring)."""

    def __init__(self, engine, monitor) -> None:
        self.engine = engine
        self.monitor = monitor
        self._features: dict[tuple[str, int], np.ndarray] = {}
        self._scores: dict[tuple[str, str, int], float] = {}
        self.last_alert = None  # StabilityState of the latest first alert of run()

    def features(self, shift: str, i: int, roi: np.ndarray) -> np.ndarray:
        """Embeddings depend on the backbone only, the same file along a lineage."""
        key = (shift, i)
        if key not in self._features:
            self._features[key] = self.engine.embed(roi)
        return self._features[key]

    def score(self, shift: str, i: int, roi: np.ndarray) -> float:
        key = (self.engine.model_version, shift, i)
        if key not in self._scores:
            patches = self.features(shift, i, roi)
            self._scores[key] = self.engine.score(patches, roi.shape[:2]).score
        return self._scores[key]

    def switch(self, engine, baseline) -> None:
        """A new model version in use: new engine, monitor reset to its baseline."""
        self.engine = engine
        self.monitor.reset(baseline)

    def run(
        self, shift: str, rois: list[np.ndarray], units: int, stop_at_alert: bool = False
    ) -> tuple[list[float], list[Level], int | None]:
        """Stream `units` units cycling over rois; returns (indices, levels, first alert unit)."""
        indices, levels, first = [], [], None
        for u in range(units):
            i = u % len(rois)
            roi = rois[i]
            self.monitor.add_roi(roi)
            self.monitor.add_embedding(self.features(shift, i, roi))
            self.monitor.add_result(self.score(shift, i, roi), self.engine.image_threshold)
            state = self.monitor.state()
            indices.append(round(state.index, 4))
            levels.append(state.level)
            if state.level == Level.RECALIBRATE and first is None:
                first = u + 1
                self.last_alert = state
                if stop_at_alert:
                    break
        return indices, levels, first

    def auroc(self, shift: str, images: list[np.ndarray], labels: np.ndarray) -> float:
        from inspection_nodes.core.anomaly import metrics

        offset = 10_000  # test images are cached apart from the streamed good ones
        scores = [self.score(shift, offset + i, img) for i, img in enumerate(images)]
        return metrics.auroc(labels, np.array(scores))


def _phase(stream: DriftStream, shift: str, rois: list[np.ndarray], units: int) -> dict:
    indices, levels, _ = stream.run(shift, rois, units)
    return {
        "units": units,
        "false_alerts": levels.count(Level.RECALIBRATE),
        "watch_units": levels.count(Level.WATCH),
        "max_index": max(indices, default=0.0),
        "index": indices,
    }


def _detect(stream: DriftStream, shift: str, rois: list[np.ndarray], max_units: int) -> dict:
    indices, _, first = stream.run(shift, rois, max_units, stop_at_alert=True)
    components = {}
    if first is not None:
        state = stream.last_alert
        components = {k: round(n, 3) for k, (_, n) in state.components.items() if n >= 1.0}
    return {"delay_units": first, "alert_components": components, "index": indices}


@dataclass(frozen=True)
class _Images:
    """The category's images at the model size, loaded once."""

    test: list[np.ndarray]
    labels: np.ndarray
    good: list[np.ndarray]
    train: list[np.ndarray]
    train_names: list[str]


def _load_images(category: Path, size: int) -> _Images:
    from inspection_nodes.core.io import mvtec

    samples = mvtec.list_test_samples(category)
    labels = np.array([s.label for s in samples])
    test = [mvtec.read_rgb(s.path, size) for s in samples]
    train_paths = mvtec.list_train_images(category)
    return _Images(
        test,
        labels,
        [img for img, label in zip(test, labels, strict=True) if label == 0],
        [mvtec.read_rgb(p, size) for p in train_paths],
        [p.name for p in train_paths],
    )


SHIFTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda img: img,
    "brightness": brightness,
    "geometry": lambda img: camera_shift(brightness(img)),
}


def _shift_and_recalibrate(
    stream: DriftStream, name: str, images: _Images, parent: Path, out: Path, args: dict
) -> dict:
    """One shift: detect it, recalibrate from the shifted train images, stream again."""
    from inspection_nodes.core.anomaly import recalibration
    from inspection_nodes.core.anomaly.engine import AnomalyEngine
    from inspection_nodes.core.stability.baseline import load_baseline

    shift = SHIFTS[name]
    rois = [shift(img) for img in images.good]
    detect = _detect(stream, name, rois, args["max_delay"])
    shifted_test = [shift(img) for img in images.test]
    before = stream.auroc(name, shifted_test, images.labels)
    recal_images = [shift(img) for img in images.train]
    feats = np.stack([stream.features(f"train-{name}", i, x) for i, x in enumerate(recal_images)])
    recal = recalibration.recalibrate(
        parent,
        out,
        recal_images,
        images.train_names,
        requested_by="bench drift",
        source=f"{args['category']} train/good, {name} shift",
        features=feats,
        registry=out.parent / "registry.json",
    )
    stream.switch(AnomalyEngine.load(out), load_baseline(out))
    settled = _phase(stream, name, rois, args["units_after"])
    return {
        "detect": detect,
        "settled": settled,
        "after": {
            "false_alerts": settled["false_alerts"],
            "watch_units": settled["watch_units"],
            "image_auroc": stream.auroc(name, shifted_test, images.labels),
            "image_auroc_before_recalibration": before,
        },
        "model": {
            "model_dir": str(out),
            "model_version": recal.manifest.model_version,
            "threshold_before": recal.threshold_before,
            "threshold_after": recal.threshold_after,
        },
    }


def _targets(result: dict, delays: dict, after: dict) -> dict:
    unshifted = result["image_auroc_unshifted"]
    return {
        "no_false_alert": result["false_alerts"] == 0
        and result["after_recalibration"]["false_alerts"] == 0,
        f"detect_within_{DETECT_WITHIN}": all(
            d is not None and d <= DETECT_WITHIN for d in delays.values()
        ),
        f"auroc_within_{AUROC_TOLERANCE}": all(
            unshifted - a["image_auroc"] <= AUROC_TOLERANCE for a in after.values()
        ),
    }


def drift_bench(
    model_dir: Path,
    category: Path,
    versions: Path,
    units_before: int = 150,
    max_delay: int = 150,
    units_after: int = 100,
) -> dict:
    """Run the three phases (module docstring) and return the result dict."""
    from inspection_nodes.core.anomaly.engine import AnomalyEngine
    from inspection_nodes.core.stability.baseline import load_baseline
    from inspection_nodes.core.stability.index import StabilityConfig, StabilityMonitor

    t0 = time.perf_counter()
    engine = AnomalyEngine.load(model_dir)
    baseline = load_baseline(model_dir)
    images = _load_images(category, engine.input_size)
    config = StabilityConfig()
    stream = DriftStream(engine, StabilityMonitor(config, baseline))
    result: dict = {
        "dataset": category.name,
        "model_version": engine.model_version,
        "baseline": baseline.source if baseline is not None else "reference window (no file)",
        "config": asdict(config),
        "shifts": {
            "brightness": BRIGHTNESS,
            "geometry": {"shift": SHIFT, "rotation_deg": ROTATION_DEG, "on_top_of": "brightness"},
        },
        "units_before_shift": units_before,
        "image_auroc_unshifted": stream.auroc("none", images.test, images.labels),
    }
    unchanged = _phase(stream, "none", images.good, units_before)
    result.update(false_alerts=unchanged["false_alerts"], watch_units=unchanged["watch_units"])
    phases: dict = {"unchanged": unchanged}
    args = {"max_delay": max_delay, "units_after": units_after, "category": category}
    parent, done = Path(model_dir), {}
    for k, name in enumerate(("brightness", "geometry"), start=1):
        out = versions / f"{Path(model_dir).name}.r{k}"
        done[name] = _shift_and_recalibrate(stream, name, images, parent, out, args)
        phases[name] = {
            "detect": done[name]["detect"],
            "after_recalibration": done[name]["settled"],
        }
        parent = out
    delays = {n: d["detect"]["delay_units"] for n, d in done.items()}
    after = {n: d["after"] for n, d in done.items()}
    result.update(
        detect_delay_units=delays,
        alert_components={n: d["detect"]["alert_components"] for n, d in done.items()},
        after_recalibration={
            "false_alerts": sum(a["false_alerts"] for a in after.values()),
            "watch_units": sum(a["watch_units"] for a in after.values()),
            "image_auroc": after["geometry"]["image_auroc"],
            "by_shift": after,
            "models": [d["model"] for d in done.values()],
        },
    )
    result["targets"] = _targets(result, delays, after)
    result["trace"] = phases
    result["elapsed_s"] = round(time.perf_counter() - t0, 1)
    return result


def summary(r: dict) -> str:
    """Short human-readable result."""
    after = r["after_recalibration"]
    lines = [
        f"{r['dataset']}: {r['units_before_shift']} unchanged units, "
        f"{r['false_alerts']} false alerts ({r['watch_units']} at watch); "
        f"image AUROC unshifted {r['image_auroc_unshifted']:.4f}",
    ]
    for name, delay in r["detect_delay_units"].items():
        a = after["by_shift"][name]
        lines.append(
            f"  {name}: detected after {delay} units by {r['alert_components'][name]}; AUROC "
            f"{a['image_auroc_before_recalibration']:.4f} -> {a['image_auroc']:.4f} after "
            f"recalibration, {a['false_alerts']} false alerts ({a['watch_units']} at watch)"
        )
    lines.append(f"  targets: {r['targets']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from inspection_nodes.core.anomaly.engine import EngineError
    from inspection_nodes.core.anomaly.recalibration import RecalibrationError
    from inspection_nodes.core.io.mvtec import DatasetError
    from inspection_nodes.core.stability.baseline import BaselineError

    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = drift_bench(
                args.model,
                args.data,
                args.versions or Path(tmp),
                args.units_before_shift,
                args.max_delay,
                args.units_after,
            )
    except (EngineError, DatasetError, RecalibrationError, BaselineError) as exc:
        print(f"inspection bench drift: error: {exc}", file=sys.stderr)
        return 2
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(summary(result))
    return 0
