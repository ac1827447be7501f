"""`inspection audit verify PATH`: check the audit log's hash chain; exit 1 on any tampering."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("audit", help="check the tamper-evident audit log")
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = sub.add_parser(
        "verify", help="walk the hash chain; exit 1 if an entry was edited or removed"
    )
    verify.add_argument("path", type=Path, help="audit log file (e.g. audit/audit.log)")
    verify.set_defaults(func=_verify)


def _verify(args: argparse.Namespace) -> int:
    from inspection_nodes.core.evidence.audit import AuditLog

    result = AuditLog(args.path).verify()
    if result.ok:
        print(f"OK: {result.entries} entries, hash chain intact")
        return 0
    where = f" at seq {result.first_bad_seq}" if result.first_bad_seq is not None else ""
    print(f"TAMPERED{where}: {result.reason} ({result.entries} entries verified before it)")
    return 1
