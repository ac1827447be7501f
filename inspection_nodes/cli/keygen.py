"""`inspection keygen --out PATH`: a new evidence key (32 random bytes, base64), mode 0600."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("keygen", help="create an evidence encryption key file (0600)")
    parser.add_argument("--out", type=Path, required=True, help="key file to create (not replaced)")
    parser.set_defaults(func=_keygen)


def _keygen(args: argparse.Namespace) -> int:
    from inspection_nodes.core.evidence.crypto import generate_key_file

    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        generate_key_file(args.out)
    except FileExistsError:
        print(f"{args.out} exists; not replaced (evidence written with it needs it)")
        return 1
    print(f"wrote {args.out} (mode 0600); set the recorder's key_file parameter to it")
    return 0
