"""Entry point of `inspection-backend`: dispatches to the subcommand modules listed below.

Each module defines `register(subparsers)`, which adds its parser and sets `func` (parsed args
-> exit code). Modules are imported only when their command runs, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# (subcommand, module under inspection_backend.cli, one-line help)
SUBCOMMANDS: tuple[tuple[str, str, str], ...] = (
    ("serve", "serve", "run the backend: ingest, workflows and the web page"),
    ("migrate", "migrate", "apply the database migrations and exit"),
    ("users", "users", "add or list users of the web page"),
    ("keygen", "keygen", "create the Ed25519 key that signs commands to cells"),
    ("export-labels", "export_labels", "write resolved cases as labels for retraining (CSV)"),
    ("fakes", "fakes", "run the fake MES/QMS/ERP/notifier HTTP service"),
    ("demo", "demo", "backend + simulated cell on embedded defaults, end to end"),
    ("bench", "bench", "ingest throughput, loss and hold latency under restarts"),
)


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inspection-backend", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = argv[0] if argv and not argv[0].startswith("-") else None
    for name, module, help_text in SUBCOMMANDS:
        if wanted == name:
            importlib.import_module(f"inspection_backend.cli.{module}").register(sub)
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
