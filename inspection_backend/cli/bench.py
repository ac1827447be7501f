"""`inspection-backend bench`: ingest throughput with a workflow for every FAIL, loss and
duplicates after a backend kill -9 and a broker restart, FAIL(critical) -> line_hold latency,
memory. Prints the numbers and writes them as JSON (benchmark.py says how each is counted)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from inspection_backend.benchmark import BenchPlan, run, write_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="backend benchmark under restarts")
    defaults = BenchPlan()
    parser.add_argument("--cells", type=int, default=defaults.cells)
    parser.add_argument("--rate", type=float, default=defaults.rate, help="offered verdicts/s")
    parser.add_argument("--duration", type=float, default=defaults.duration_s, help="seconds")
    parser.add_argument("--fail-rate", type=float, default=defaults.fail_rate)
    parser.add_argument(
        "--one-process", action="store_true", help="one `all` backend instead of ingest + workflows"
    )
    parser.add_argument("--workdir", type=Path, default=Path("out/bench/backend-run"))
    parser.add_argument("--json", type=Path, default=Path("out/bench/backend.json"))
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    plan = BenchPlan(
        cells=args.cells,
        rate=args.rate,
        duration_s=args.duration,
        fail_rate=args.fail_rate,
        split=not args.one_process,
    )
    result = run(plan, args.workdir)
    write_json(result, args.json)
    for name, value in asdict(result).items():
        print(f"{name:28s} {value}")
    print(f"wrote {args.json}")
    return 0 if result.lost == 0 and result.duplicates == 0 else 1
