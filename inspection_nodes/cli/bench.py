"""`inspection bench NAME`: benchmarks that print numbers and write JSON (not part of the tests).

Each benchmark module under inspection_nodes.cli defines `register(subparsers)` like a top-level
subcommand and keeps heavy imports (torch, rclpy) inside its run function.
"""

from __future__ import annotations

import argparse
import importlib

# (benchmark name, module under inspection_nodes.cli)
BENCHMARKS: tuple[tuple[str, str], ...] = (
    ("bridge", "bench_bridge"),
    ("actuator", "bench_actuator"),
    ("engine", "bench_engine"),
    ("drift", "bench_drift"),
    ("rhythm", "bench_rhythm"),
    ("foxglove", "bench_foxglove"),
    ("coldstart", "bench_coldstart"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="benchmarks that print numbers and write JSON")
    sub = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK")
    for _name, module in BENCHMARKS:
        importlib.import_module(f"inspection_nodes.cli.{module}").register(sub)

    def _no_benchmark(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=_no_benchmark)
