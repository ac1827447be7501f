"""`inspection recalibrate`: a new model version from a folder of good images (guided
recalibration, core/anomaly/recalibration.py); `inspection rollback` undoes it."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recalibrate",
        help="new model version: MODEL_DIR's normals + good images of DIR, new thresholds",
    )
    parser.add_argument("--model", required=True, type=Path, help="model directory in use now")
    parser.add_argument(
        "--data",
        required=True,
        type=Path,
        help="good images: DIR/train/good of an MVTec-layout category, or a folder of images",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="new version directory (default: MODEL_DIR.rN)"
    )
    parser.add_argument(
        "--registry", type=Path, default=None, help="registry JSON (default: OUT/../registry.json)"
    )
    parser.add_argument("--by", default=None, help="who asks (default: the login name)")
    parser.add_argument(
        "--no-activate",
        action="store_true",
        help="register the new version without making it the active one",
    )
    parser.add_argument(
        "--backend", choices=("onnxruntime", "tensorrt", "torch"), default="onnxruntime"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from inspection_nodes.core.anomaly import recalibration
    from inspection_nodes.core.anomaly.artifact import ArtifactError
    from inspection_nodes.core.anomaly.engine import EngineError
    from inspection_nodes.core.anomaly.registry import set_active
    from inspection_nodes.core.io import mvtec

    out = args.out or recalibration.next_version_dir(args.model)
    registry = args.registry or out.parent / "registry.json"
    try:
        good = recalibration.read_good_images(args.data)
        result = recalibration.recalibrate(
            args.model,
            out,
            good.images,
            good.names,
            requested_by=args.by or getpass.getuser(),
            source=f"folder {args.data}",
            dataset_hash=good.dataset_hash,
            registry=registry,
            backend=args.backend,
        )
        if not args.no_activate:
            set_active(registry, result.model_dir, result.manifest)
    except (
        recalibration.RecalibrationError,
        EngineError,
        mvtec.DatasetError,
        ArtifactError,
        OSError,
    ) as exc:
        print(f"inspection recalibrate: error: {exc}", file=sys.stderr)
        return 2
    m = result.manifest
    print(
        f"{m.model_version} (parent {m.parent_version}) from {len(good.images)} images -> "
        f"{result.model_dir}\n"
        f"  image threshold {result.threshold_before:.3f} -> {result.threshold_after:.3f}; "
        f"good-score histogram {result.histogram}\n"
        f"  registry {registry}: {'active' if not args.no_activate else 'registered, not active'}"
        f"\n  running cell: ros2 param set /scoring model_dir {result.model_dir}"
        f"\n  undo: inspection rollback --model {result.model_dir}"
    )
    return 0
