"""`inspection rollback`: make the parent of a recalibrated version the active one again."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rollback", help="make the parent of a recalibrated model version active again"
    )
    parser.add_argument("--model", required=True, type=Path, help="recalibrated version to undo")
    parser.add_argument(
        "--registry",
        type=Path,
        default=None,
        help="registry JSON (default: MODEL_DIR/../registry.json)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from inspection_nodes.core.anomaly.artifact import ArtifactError
    from inspection_nodes.core.anomaly.recalibration import RecalibrationError, rollback

    registry = args.registry or args.model.parent / "registry.json"
    try:
        parent = rollback(registry, args.model)
    except (RecalibrationError, ArtifactError) as exc:
        print(f"inspection rollback: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"active again: {parent} (registry {registry}); {args.model} stays on disk\n"
        f"  running cell: ros2 param set /scoring model_dir {parent}"
    )
    return 0
