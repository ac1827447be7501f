"""`inspection-backend export-labels --out labels.csv`: resolved cases (true/false positive,
confirmed class, image hash, model version) as labels for the cell's retraining."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from inspection_backend.cli.common import add_settings_arguments, database, settings_from
from inspection_backend.db import cases_store


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export-labels", help="write resolved cases as labels (CSV)")
    parser.add_argument("--out", type=Path, required=True)
    add_settings_arguments(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    with database(settings_from(args)) as engine, engine.connect() as conn:
        rows = cases_store.export_labels(conn)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["case_id"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} labels to {args.out}")
    return 0
