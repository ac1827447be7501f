"""`inspection demo` (`make demo`): enroll the bottle station once, then run the whole cell over
its test images as separate ROS 2 processes and print verdicts, confusion and latency."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from inspection_nodes import PACKAGE_DIR

REPO = PACKAGE_DIR.parent
DATA = REPO.parent / "shared" / "data" / "mvtec_ad" / "bottle"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="the cell's main job on shipped data")
    parser.add_argument("--data", type=Path, default=DATA, help="MVTec-layout category")
    parser.add_argument("--model", type=Path, default=REPO / "models" / "bottle")
    parser.add_argument("--out", type=Path, default=REPO / "out" / "demo")
    parser.add_argument("--config", type=Path, default=REPO / "config" / "bottle.yaml")
    parser.add_argument("--quiet", action="store_true", help="do not echo node output")
    parser.set_defaults(func=run)


def _inspection(*args: str) -> int:
    return subprocess.call([sys.executable, "-m", "inspection_nodes.cli.main", *args], cwd=REPO)


def run(args: argparse.Namespace) -> int:
    if not (args.data / "train" / "good").is_dir():
        print(f"error: {args.data} is not an MVTec-layout category (no train/good)")
        return 2
    if (args.model / "manifest.json").is_file():
        print(f"[demo] using enrolled model {args.model} (delete it to enroll again)")
    else:
        print(f"[demo] enrolling {args.data / 'train' / 'good'} -> {args.model}")
        rc = _inspection("enroll", "--data", str(args.data), "--out", str(args.model))
        if rc != 0:
            return rc
    print("[demo] running the cell over the test images (one process per node)")
    cell_args = [
        "cell",
        "--model",
        str(args.model),
        "--images",
        str(args.data / "test"),
        "--config",
        str(args.config),
        "--json",
        str(args.out / "report.json"),
        "--heatmaps",
        str(args.out / "heatmaps"),
    ]
    if args.quiet:
        cell_args.append("--quiet")
    rc = _inspection(*cell_args)
    print(
        f"[demo] heatmap overlays in {args.out / 'heatmaps'}, report in {args.out / 'report.json'}"
    )
    return rc
