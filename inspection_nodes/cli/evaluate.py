"""`inspection evaluate`: AUROC, margin and latency of a model over an MVTec test split."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("evaluate", help="score DIR/test/* and write metrics JSON")
    parser.add_argument("--model", required=True, type=Path, help="model directory")
    parser.add_argument("--data", required=True, type=Path, help="MVTec-layout category DIR")
    parser.add_argument("--json", required=True, type=Path, help="output JSON file")
    parser.add_argument(
        "--backend", choices=("onnxruntime", "tensorrt", "torch"), default="onnxruntime"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.set_defaults(func=run)


def evaluate_engine(engine: Any, category: Path, warmup: int = 3) -> dict:
    """Score every test image; pixel metrics at the model input size (masks: INTER_NEAREST).

    Latency is per image, in process: embed() (preprocess + backbone + aggregation) plus
    score() (kNN + map + regions), with the image already loaded and resized to the ROI size.
    """
    import numpy as np

    from inspection_nodes.core.anomaly import metrics
    from inspection_nodes.core.common.timing import percentile_ms
    from inspection_nodes.core.io import mvtec

    samples = mvtec.list_test_samples(category)
    size = engine.input_size
    images = [mvtec.read_rgb(s.path, size) for s in samples]
    masks = np.stack([mvtec.read_mask(s.mask_path, (size, size)) for s in samples])
    labels = np.array([s.label for s in samples])
    for img in images[:warmup]:
        engine.score(engine.embed(img), (size, size))
    scores = np.empty(len(samples))
    maps = np.empty((len(samples), size, size), dtype=np.float32)
    latency, embed_s = [], []
    for i, img in enumerate(images):
        t0 = time.perf_counter()
        patches = engine.embed(img)
        t1 = time.perf_counter()
        result = engine.score(patches, (size, size))
        latency.append(time.perf_counter() - t0)
        embed_s.append(t1 - t0)
        scores[i] = result.score
        maps[i] = result.anomaly_map
    has_masks = all(s.mask_path is not None for s in samples if s.label == 1)
    fail = scores > engine.image_threshold
    return {
        "image_auroc": metrics.auroc(labels, scores),
        "pixel_auroc": metrics.auroc(masks, maps) if has_masks else None,
        "n_images": len(samples),
        "n_good": int((labels == 0).sum()),
        "n_defective": int((labels == 1).sum()),
        "margin": metrics.score_margin(labels, scores),
        "good_score_max": float(scores[labels == 0].max()),
        "defect_score_min": float(scores[labels == 1].min()),
        "false_reject_rate": float(fail[labels == 0].mean()),
        "escape_rate": float((~fail[labels == 1]).mean()),
        "latency_ms": {
            "p50": percentile_ms(latency, 50),
            "p99": percentile_ms(latency, 99),
            "embed_p50": percentile_ms(embed_s, 50),
        },
        "image_threshold": engine.image_threshold,
        "pixel_threshold": engine.pixel_threshold,
        "pixel_resolution": [size, size],
        "model_version": engine.model_version,
        "method": engine.method,
        "backend": engine.backend,
        "bank_size": engine.bank_size,
        "memory_bytes": engine.memory_bytes,
    }


def summary(result: dict) -> str:
    """Readable one-block summary of evaluate_engine's result."""
    pixel = result["pixel_auroc"]
    lat = result["latency_ms"]
    return (
        f"{result['model_version']} ({result['method']}, {result['backend']}), "
        f"{result['n_images']} images ({result['n_good']} good, "
        f"{result['n_defective']} defective)\n"
        f"  image AUROC {result['image_auroc']:.4f}   pixel AUROC "
        f"{'n/a' if pixel is None else f'{pixel:.4f}'}   margin {result['margin']:+.3f}\n"
        f"  at threshold {result['image_threshold']:.3f}: false rejects "
        f"{result['false_reject_rate']:.1%}, escapes {result['escape_rate']:.1%}\n"
        f"  latency p50 {lat['p50']:.2f} ms  p99 {lat['p99']:.2f} ms  "
        f"(backbone p50 {lat['embed_p50']:.2f} ms), bank {result['bank_size']} rows"
    )


def run(args: argparse.Namespace) -> int:
    from inspection_nodes.core.anomaly.engine import AnomalyEngine, EngineError
    from inspection_nodes.core.io.mvtec import DatasetError

    try:
        # This process owns the CPU and runs backbone and scorer back to back: let ONNX
        # Runtime's threads spin (the embedding node does not; see OnnxRuntimeBackend).
        engine = AnomalyEngine.load(args.model, backend=args.backend, device=args.device, spin=True)
        result = evaluate_engine(engine, args.data)
    except (EngineError, DatasetError) as exc:
        print(f"inspection evaluate: error: {exc}", file=sys.stderr)
        return 2
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(summary(result))
    return 0
