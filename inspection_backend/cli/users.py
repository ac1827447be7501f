"""`inspection-backend users add NAME --role engineer` (password from $INSPECTION_PASSWORD or a
prompt, never a flag: flags end up in shell history) and `users list`."""

from __future__ import annotations

import argparse
import getpass
import os

from inspection_backend.cli.common import add_settings_arguments, database, settings_from
from inspection_backend.core.auth import Role
from inspection_backend.db import users_store

PASSWORD_ENV = "INSPECTION_PASSWORD"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("users", help="add or list users of the web page")
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create a user or change its password and role")
    add.add_argument("username")
    add.add_argument("--role", type=Role, choices=list(Role), required=True)
    add_settings_arguments(add)
    listing = actions.add_parser("list", help="list users")
    add_settings_arguments(listing)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    with database(settings_from(args)) as engine:
        if args.action == "list":
            with engine.connect() as conn:
                for row in users_store.list_users(conn):
                    print(f"{row.username}\t{row.role}\t{'active' if row.active else 'inactive'}")
            return 0
        password = os.environ.get(PASSWORD_ENV) or getpass.getpass(
            f"password for {args.username}: "
        )
        try:
            with engine.begin() as conn:
                users_store.add_user(conn, args.username, password, args.role, actor="cli")
        except ValueError as exc:
            print(f"refused: {exc}")
            return 1
    print(f"saved {args.username} ({args.role})")
    return 0
