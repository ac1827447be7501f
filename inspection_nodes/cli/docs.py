"""`inspection docs`: the README's parameter tables, generated from each node's PARAMETERS.

test/test_readme.py checks the README holds exactly these tables, so docs cannot drift.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from inspection_nodes.graph import NODES


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, list | tuple):
        return "`[" + ", ".join(str(v) for v in value) + "]`"
    return f"`{value}`"


def parameter_table(node_name: str) -> str:
    """Markdown `Name | Type | Default | Range | Description` table of one node."""
    spec = next(s for s in NODES if s.name == node_name)
    module = importlib.import_module(f"inspection_nodes.nodes.{spec.module}")
    rows = ["| Name | Type | Default | Range | Description |", "|---|---|---|---|---|"]
    for p in module.PARAMETERS:
        if p.range is not None:
            rng = f"{p.range[0]:g} .. {p.range[1]:g}"
        elif p.choices:
            rng = ", ".join(p.choices)
        else:
            rng = ""
        note = " (read-only)" if p.read_only else ""
        rows.append(
            f"| `{p.name}` | {p.type_name} | {_fmt(p.default)} | {rng} | {p.description}{note} |"
        )
    return "\n".join(rows)


def marker(node_name: str) -> tuple[str, str]:
    return f"<!-- params:{node_name} -->", f"<!-- /params:{node_name} -->"


def update_text(text: str) -> str:
    """Replace each `<!-- params:NODE -->` block of a README with the generated table."""
    for spec in NODES:
        start, end = marker(spec.name)
        if start not in text:
            continue
        head, _, rest = text.partition(start)
        _, found, tail = rest.partition(end)
        if not found:
            tail = rest
        text = f"{head}{start}\n{parameter_table(spec.name)}\n{end}{tail}"
    return text


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("docs", help="print or update the README parameter tables")
    parser.add_argument(
        "--update",
        type=Path,
        metavar="README",
        help="rewrite the <!-- params:NODE --> blocks of this file",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.update:
        args.update.write_text(update_text(args.update.read_text()))
        return 0
    for spec in NODES:
        print(f"### {spec.name} parameters\n")
        print(parameter_table(spec.name))
        print()
    return 0
