"""`inspection bench coldstart`: how long from starting the cell to its first decision, and is
the first unit slower than the ones after it?

Each run starts the whole graph as processes (`inspection cell`: the station's params file, the
model already enrolled and its ONNX backbone on disk, so nothing is built), over `--units`
images, one unit in the graph at a time, and reads from the cell's own stamps:

  start -> first frame     graph.start() to the first unit's capture stamp: processes, imports,
                           model loading, DDS discovery, the camera's start-up wait
  first frame -> verdict   the gate's decision time of that first unit (Verdict.decided_at_ms)
  start -> first verdict   the sum: what an operator waits after starting the cell
  warm p50                 camera -> verdict of units 2..N, the reference for the first one
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from inspection_nodes.cli.cell import DEFAULT_CONFIG

NS_PER_MS = 1e6


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("coldstart", help="cell start -> first verdict")
    parser.add_argument("--model", type=Path, required=True, help="enrolled model directory")
    parser.add_argument("--images", type=Path, required=True, help="folder of images")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="station params")
    parser.add_argument("--units", type=int, default=10, help="images per run (first N)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the result here")
    parser.set_defaults(func=run)


def one_run(args: argparse.Namespace, folder: Path) -> dict | None:
    from inspection_nodes.cli.cell import execute_folder

    cell_args = argparse.Namespace(
        model=args.model,
        images=folder,
        config=args.config,
        rate=0.0,
        max_in_flight=1,
        heatmaps=None,
        timeout=300.0,
        quiet=True,
    )
    summary, ok = execute_folder(cell_args)
    if summary is None or not ok:
        return None
    units = summary["verdicts"]
    first, rest = units[0], [u["camera_to_verdict_ms"] for u in units[1:]]
    start_to_frame = (first["stamp_ns"] - summary["started_ns"]) / NS_PER_MS
    return {
        "start_to_first_frame_ms": round(start_to_frame, 1),
        "first_frame_to_verdict_ms": first["camera_to_verdict_ms"],
        "start_to_first_verdict_ms": round(start_to_frame + first["camera_to_verdict_ms"], 1),
        "warm_p50_ms": round(statistics.median(rest), 3) if rest else None,
        "first_stages_ms": first["stages_ms"],
        "warm_stages_p50_ms": {
            stage: round(statistics.median(u["stages_ms"].get(stage, 0.0) for u in units[1:]), 3)
            for stage in first["stages_ms"]
        },
    }


def sample_folder(images: Path, units: int, work: Path) -> Path:
    """The first `units` images (sorted, recursive) linked into one folder."""
    from inspection_nodes.core.io.camera import list_images

    folder = work / "units"
    folder.mkdir(parents=True)
    for i, path in enumerate(list_images(images)[:units]):
        (folder / f"{i:04d}_{Path(path).name}").symlink_to(Path(path).resolve())
    return folder


def run(args: argparse.Namespace) -> int:
    import tempfile

    if args.units < 2:
        print(
            "error: --units must be >= 2 (the first unit is compared with the rest)",
            file=sys.stderr,
        )
        return 2
    runs = []
    with tempfile.TemporaryDirectory(prefix="coldstart-") as work:
        folder = sample_folder(args.images, args.units, Path(work))
        for i in range(args.runs):
            result = one_run(args, folder)
            if result is None:
                print(f"error: run {i + 1} did not decide every unit", file=sys.stderr)
                return 1
            runs.append(result)
            print(f"run {i + 1}: {json.dumps(result)}")
    keys = [k for k, v in runs[0].items() if not isinstance(v, dict)]
    summary = {
        "units_per_run": args.units,
        "runs": runs,
        "median": {k: statistics.median(r[k] for r in runs if r[k] is not None) for k in keys},
    }
    print(json.dumps(summary["median"], indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2))
    return 0
