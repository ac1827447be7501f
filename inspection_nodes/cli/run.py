"""`inspection run --config config/X.yaml`: the station's nodes as processes until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from inspection_nodes.core.cell.config import ConfigError, load_cell_config
from inspection_nodes.core.cell.launcher import ProcessGraph, process_command


def parse_overrides(items: list[str]) -> dict[str, dict[str, str]]:
    """`node.param=value` pairs -> {node: {param: value}}."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        node, dot, param = key.partition(".")
        if not sep or not dot or not node or not param:
            raise ConfigError(f"override {item!r} is not node.param=value")
        out.setdefault(node, {})[param] = value
    return out


def build_graph(
    config_path: Path, overrides: dict[str, dict[str, object]], echo=print
) -> ProcessGraph:
    """One process per node, or per `cell.compose` group (named "camera+roi")."""
    config = load_cell_config(config_path)
    commands = [
        ("+".join(spec.name for spec in group), process_command(group, config.path, overrides))
        for group in config.processes
    ]
    return ProcessGraph(commands, echo=echo)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="start the node graph as separate processes")
    parser.add_argument("--config", required=True, type=Path, help="ROS 2 params YAML")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NODE.PARAM=VALUE",
        help="override one parameter of one node (repeatable)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        help="stop after this many seconds (0 = until Ctrl-C)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        graph = build_graph(args.config, parse_overrides(args.set))
    except ConfigError as exc:
        print(f"error: {exc}")
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    names = ", ".join(n.name for n in graph.nodes)
    print(f"[run] starting {len(graph.nodes)} processes: {names} (Ctrl-C stops them)")
    graph.start()
    failed: list[tuple[str, int]] = []
    waited = 0.0
    while not stop.wait(0.2):
        waited += 0.2
        failed = [(n, rc) for n, rc in graph.exited() if rc != 0]
        if failed or (args.duration and waited >= args.duration):
            break
    codes = graph.stop()
    for name, rc in failed:
        print(f"[run] node {name} exited with code {rc}; stopped the graph")
    print("[run] stopped: " + ", ".join(f"{n}={rc}" for n, rc in codes.items()))
    return 1 if failed else 0
