"""`inspection-backend keygen [--out PATH]`: the Ed25519 key that signs commands to cells.

Writes a PKCS8 PEM private key (mode 0600, never replaced) and prints the public key as
base64 of its 32 raw bytes: that line goes into each cell's trust file. Keep the private key
out of version control.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inspection_backend.core.commands import SigningKey
from inspection_backend.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("keygen", help="create the command signing key (0600)")
    parser.add_argument(
        "--out", type=Path, help="key file (default: COMMAND_KEY or DATA_DIR/command_key.pem)"
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    path = args.out or settings.command_key_path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        public = SigningKey.generate(path)
    except FileExistsError:
        print(f"{path} exists; not replaced (cells trust its public key)")
        return 1
    print(f"wrote {path} (mode 0600); key_id {settings.command_key_id}")
    print(f"public key for the cells' trust file: {public}")
    return 0
