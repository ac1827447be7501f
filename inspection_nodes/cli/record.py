"""`inspection record`: run the cell over a folder (like `inspection cell`) and write its topics
(images, capture events, results, verdicts, actuator events) to an MCAP bag for replay."""

from __future__ import annotations

import argparse
from pathlib import Path

from inspection_nodes.cli.cell import add_cell_arguments, execute
from inspection_nodes.core.camera import SourceError, list_images


def register(subparsers: argparse._SubParsersAction) -> None:
    rec = subparsers.add_parser("record", help="run the cell over a folder and record an MCAP bag")
    add_cell_arguments(rec)
    rec.add_argument("--out", type=Path, required=True, help="bag directory to create")
    rec.set_defaults(func=record)


def record(args: argparse.Namespace) -> int:
    try:
        expected = len(list_images(args.images))
    except SourceError as exc:
        print(f"error: {exc}")
        return 2
    camera = {"source_type": "folder", "source": str(args.images), "loop": False}
    summary, ok = execute(args, camera, expected, record=args.out)
    if summary is None:
        return 2
    print(f"recorded {summary['units']} units to {args.out}")
    return 0 if ok else 1
