"""Entry point of `inspection`: dispatches to the subcommand modules listed in SUBCOMMANDS.

Each subcommand module defines `register(subparsers) -> None`, which adds its parser and sets
`func` (taking the parsed args, returning an exit code). Modules are imported lazily by name so
`inspection run` does not pay for torch imports that only `inspection enroll` needs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# (subcommand name, module under inspection_nodes.cli, one-line help)
SUBCOMMANDS: tuple[tuple[str, str, str], ...] = (
    ("run", "run", "start the node graph as separate processes from a params YAML"),
    ("demo", "demo", "the cell's main job on shipped data"),
    ("cell", "cell", "run the graph over a folder of images once and report verdicts"),
    ("record", "record", "run the cell over a folder and record an MCAP bag"),
    ("replay", "replay", "replay a bag's images and compare verdicts"),
    ("enroll", "enroll", "build an anomaly model from good images (MVTec layout)"),
    ("evaluate", "evaluate", "AUROC and latency of a model over an MVTec test split"),
    ("bench", "bench", "benchmarks that print numbers and write JSON"),
    ("audit", "audit", "verify the tamper-evident audit log"),
    ("keygen", "keygen", "create an evidence encryption key file"),
    ("docs", "docs", "print the README parameter tables"),
    ("recalibrate", "recalibrate", "new model version from good images, thresholds recalibrated"),
    ("rollback", "rollback", "make the parent of a recalibrated model version active again"),
    ("train-detector", "train_detector", "train a YOLO defect detector into a model directory"),
    ("evaluate-detector", "evaluate_detector", "mAP and latency of a detector model"),
    ("retrain-detector", "retrain_detector", "retrain when enough new labels, deploy if not worse"),
)


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inspection", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = argv[0] if argv and not argv[0].startswith("-") else None
    for name, module, help_text in SUBCOMMANDS:
        if wanted is None or wanted == name:
            importlib.import_module(f"inspection_nodes.cli.{module}").register(sub)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
