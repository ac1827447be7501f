"""Reads the station's ROS 2 params YAML for the runner: which nodes run, with what parameters.

The file is a plain ROS 2 parameters file (`/**:` for all nodes, `<node>:` per node) so the same
file works with `ros2 launch` and `--params-file`. The extra `cell:` section (no such node
exists, so ROS ignores it) lists the nodes to start and names the station.
"""

from __future__ import annotations

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
    parameters: dict[str, dict[str, Any]]  # node name (or "/**") -> ros__parameters

    def node_parameters(self, name: str) -> dict[str, Any]:
        """Parameters one node gets: `/**` values overlaid by its own section."""
        merged = dict(self.parameters.get("/**", {}))
        merged.update(self.parameters.get(name, {}))
        return merged


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
    return CellConfig(path, str(cell.get("station", path.stem)), nodes, parameters)
