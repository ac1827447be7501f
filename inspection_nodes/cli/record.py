"""`inspection record`: run the cell over a folder (like `inspection cell`) and write its topics
(images, capture events, results, verdicts, actuator events) to an MCAP bag for replay."""

from __future__ import annotations

import argparse
from pathlib import Path

from inspection_nodes.cli.cell import add_cell_arguments, execute_folder


def register(subparsers: argparse._SubParsersAction) -> None:
    rec = subparsers.add_parser("record", help="run the cell over a folder and record an MCAP bag")
    add_cell_arguments(rec)
    rec.add_argument("--out", type=Path, required=True, help="bag directory to create")
    rec.set_defaults(func=record)


def record(args: argparse.Namespace) -> int:
    summary, ok = execute_folder(args, record=args.out)
    if summary is None:
        return 2
    print(f"recorded {summary['units']} units to {args.out}")
    return 0 if ok else 1
