"""`inspection-backend migrate`: bring the schema to the newest version and print it."""

from __future__ import annotations

import argparse

from inspection_backend.cli.common import add_settings_arguments, database, settings_from
from inspection_backend.db.migrate import current_revision


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("migrate", help="apply the database migrations and exit")
    add_settings_arguments(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    with database(settings_from(args)) as engine:
        print(f"schema at revision {current_revision(engine)}")
    return 0
