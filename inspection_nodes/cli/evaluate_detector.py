"""`inspection evaluate-detector`: mAP and latency of a detector model with the cell's inference."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inspection_nodes.core.detector.yolo import BACKENDS, PRECISIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate-detector", help="mAP50, mAP50-95, per-class AP50 and latency -> JSON"
    )
    parser.add_argument("--model", required=True, type=Path, help="detector model directory")
    parser.add_argument(
        "--data",
        required=True,
        type=Path,
        help="YOLO layout (its val split) or DeepPCB root (official test pairs)",
    )
    parser.add_argument("--json", required=True, type=Path, help="output JSON file")
    parser.add_argument("--split", default="val", help="split of a YOLO layout (default val)")
    parser.add_argument("--backend", choices=BACKENDS, default="onnxruntime")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument(
        "--precision", choices=PRECISIONS, default="fp32", help="int8: the model's INT8 ONNX"
    )
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    parser.add_argument(
        "--confidence", type=float, default=0.25, help="deployed confidence (latency pass)"
    )
    parser.add_argument("--iou", type=float, default=0.45, help="NMS IoU threshold")
    parser.set_defaults(func=run)


def summary(result: dict) -> str:
    """Readable block: mAP, per-class AP50, latency."""
    per_class = "  ".join(
        f"{name} {'n/a' if ap is None else f'{ap:.3f}'}"
        for name, ap in result["per_class_ap50"].items()
    )
    lat = result["latency_ms"]
    return (
        f"{result['model_version']} ({result['input_mode']}, {result['backend']} "
        f"{result['precision']}, "
        f"{result['imgsz']} px), {result['n_images']} images\n"
        f"  mAP50 {result['map50']:.4f}   mAP50-95 {result['map50_95']:.4f}\n"
        f"  AP50: {per_class}\n"
        f"  latency p50 {lat['p50']:.1f} ms  p99 {lat['p99']:.1f} ms"
    )


def run(args: argparse.Namespace) -> int:
    from inspection_nodes.core.detector.evaluation import evaluate, load_samples
    from inspection_nodes.core.detector.yolo import DetectorConfig, DetectorError, YoloDetector
    from inspection_nodes.core.io.mvtec import DatasetError

    try:
        config = DetectorConfig(
            backend=args.backend,
            device=args.device,
            precision=args.precision,
            confidence=args.confidence,
            iou=args.iou,
            threads=args.threads,
            spin=True,  # a benchmark process owning the CPU, as `inspection evaluate` does
        )
        detector = YoloDetector.load(args.model, config)
        result = evaluate(detector, load_samples(args.data, detector.class_names, args.split))
    except (DetectorError, DatasetError, ValueError) as exc:
        print(f"inspection evaluate-detector: error: {exc}", file=sys.stderr)
        return 2
    result["data"] = str(args.data)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(summary(result))
    return 0
