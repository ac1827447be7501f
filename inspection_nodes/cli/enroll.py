"""`inspection enroll`: build a model directory from the train/good images of an MVTec category."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inspection_nodes.core.anomaly.manifest import Method


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "enroll", help="build an anomaly model from good images (MVTec layout: DIR/train/good)"
    )
    parser.add_argument("--data", required=True, type=Path, help="MVTec-layout category DIR")
    parser.add_argument("--out", required=True, type=Path, help="model directory to write")
    parser.add_argument("--method", choices=tuple(Method), default=Method.PATCHCORE)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument(
        "--backend", choices=("onnxruntime", "tensorrt", "torch"), default="onnxruntime"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--coreset-ratio", type=float, default=0.1)
    parser.add_argument(
        "--holdout", type=float, default=0.2, help="good images held out for thresholds"
    )
    parser.add_argument(
        "--registry", type=Path, default=None, help="registry JSON (default: OUT/../registry.json)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from inspection_nodes.core.anomaly.artifact import ArtifactError
    from inspection_nodes.core.anomaly.engine import EngineError
    from inspection_nodes.core.anomaly.enrollment import EnrollConfig, enroll_images
    from inspection_nodes.core.anomaly.registry import update_registry
    from inspection_nodes.core.io import mvtec

    try:
        paths = mvtec.list_train_images(args.data)
        images = [mvtec.read_rgb(p) for p in paths]
        config = EnrollConfig(
            method=args.method,
            backbone=args.backbone,
            backend=args.backend,
            device=args.device,
            coreset_ratio=args.coreset_ratio,
            holdout_fraction=args.holdout,
        )
        manifest = enroll_images(
            images,
            [p.name for p in paths],
            args.out,
            config,
            data_path=str(args.data),
            data_hash=mvtec.dataset_hash(paths),
        )
        registry = args.registry or args.out.resolve().parent / "registry.json"
        update_registry(registry, args.out, manifest)
    except (EngineError, mvtec.DatasetError, ArtifactError, ValueError) as exc:
        print(f"inspection enroll: error: {exc}", file=sys.stderr)
        return 2
    metrics = manifest.metrics
    print(
        f"enrolled {manifest.model_version} from {len(paths)} images in "
        f"{metrics.enroll_s:.1f} s: bank {metrics.bank_size} rows "
        f"({metrics.bank_bytes / 1e6:.1f} MB) -> {args.out} (registry {registry})"
    )
    return 0
