"""Reads the station's ROS 2 params YAML for the runner: which nodes run, with what parameters.

The file is a plain ROS 2 parameters file (`/**:` for all nodes, `/**/<node>:` per node) so the
same file works with `ros2 launch` and `--params-file`. Per-node sections are written `/**/gate:`
rather than `gate:` because a plain `gate:` matches only `/gate`: with `ros2 launch ...
namespace:=line1` the node is `/line1/gate` and would silently run on its defaults. Sections
apply as ROS applies them (`section_matches`): every section whose key matches the node's
fully qualified name, in file order, later values winning. The extra `cell:` section (no such node
exists, so ROS ignores it) lists the nodes to start, names the station, and says which nodes
share one process (`compose: ["camera+roi"]`, run by nodes/container.py; a plain string list
because ROS parameters cannot be nested lists).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from inspection_nodes.graph import NODES, NodeSpec, node_spec


class ConfigError(ValueError):
    """The params file is missing, not YAML, or not shaped like a ROS 2 params file."""


@dataclass(frozen=True)
class CellConfig:
    path: Path
    station: str
    nodes: tuple[NodeSpec, ...]
    parameters: dict[str, dict[str, Any]]  # section key ("/**", "/**/gate") -> ros__parameters
    processes: tuple[tuple[NodeSpec, ...], ...] = ()  # the nodes grouped by process, in order

    def node_parameters(self, name: str, namespace: str = "") -> dict[str, Any]:
        """Parameters node `name` gets in `namespace`: every matching section, in file order."""
        fqn = f"{namespace.rstrip('/')}/{name}" if namespace.startswith("/") else f"/{name}"
        merged: dict[str, Any] = {}
        for key, values in self.parameters.items():
            if section_matches(key, fqn):
                merged.update(values)
        return merged


def section_matches(key: str, fqn: str) -> bool:
    """Whether a params-file section applies to the node `fqn` ("/line1/gate"), as rcl decides:
    a key without a leading slash is absolute (`gate` = `/gate`), `*` stands for one name,
    `**` for any number of namespace levels (`/**` = every node, `/**/gate` = every gate)."""
    parts = []
    for token in key.strip("/").split("/"):
        if token == "**":
            parts.append("(?:/[^/]+)*")
        elif token == "*":
            parts.append("/[^/]+")
        else:
            parts.append("/" + re.escape(token))
    return re.fullmatch("".join(parts), fqn) is not None


def load_cell_config(path: str | Path) -> CellConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of node names to ros__parameters")
    parameters: dict[str, dict[str, Any]] = {}
    for key, section in raw.items():
        if not isinstance(section, dict) or not isinstance(section.get("ros__parameters"), dict):
            raise ConfigError(f"{path}: section {key!r} needs a 'ros__parameters:' mapping")
        parameters[str(key)] = section["ros__parameters"]
    cell = parameters.pop("cell", {})
    names = cell.get("nodes") or [spec.name for spec in NODES if not spec.optional]
    try:
        nodes = tuple(node_spec(str(n)) for n in names)
    except KeyError as exc:
        raise ConfigError(f"{path}: cell.nodes: {exc.args[0]}") from None
    processes = group_processes(nodes, cell.get("compose") or [], path)
    return CellConfig(path, str(cell.get("station", path.stem)), nodes, parameters, processes)


def group_processes(
    nodes: tuple[NodeSpec, ...], compose: list, path: Path
) -> tuple[tuple[NodeSpec, ...], ...]:
    """Nodes grouped by process: each `compose` entry ("camera+roi") is one process, placed where
    its first node is listed; every other node runs alone."""
    if not isinstance(compose, list) or not all(isinstance(g, str) for g in compose):
        raise ConfigError(f'{path}: cell.compose must be a list of strings like "camera+roi"')
    by_name = {spec.name: spec for spec in nodes}
    group_of: dict[str, tuple[NodeSpec, ...]] = {}
    for entry in compose:
        names = [n.strip() for n in entry.split("+")]
        unknown = [n for n in names if n not in by_name]
        if len(names) < 2 or unknown or len(set(names)) != len(names):
            why = f"{unknown} not in cell.nodes" if unknown else "needs two or more distinct nodes"
            raise ConfigError(f"{path}: cell.compose entry {entry!r}: {why}")
        taken = [n for n in names if n in group_of]
        if taken:
            raise ConfigError(f"{path}: cell.compose: {taken} listed in two processes")
        group = tuple(by_name[n] for n in names)
        group_of.update({n: group for n in names})
    processes: list[tuple[NodeSpec, ...]] = []
    for spec in nodes:
        group = group_of.get(spec.name, (spec,))
        if group not in processes:
            processes.append(group)
    return tuple(processes)
