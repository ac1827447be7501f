"""The plant configuration: lines, their cells and stations, shifts and each station's routing
policy. One YAML file (`config/backend/plant.yaml`) plus one policy file per station; the cells
listed here are the only ones whose messages are accepted."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from inspection_backend.core.routing import RoutingPolicy
from inspection_backend.core.shifts import ShiftCalendar


@dataclass(frozen=True)
class CellInfo:
    cell_id: str
    line_id: str
    station: str
    machine: str


@dataclass(frozen=True)
class PlantConfig:
    name: str
    cells: tuple[CellInfo, ...]
    shifts: ShiftCalendar
    policies: dict[str, RoutingPolicy]
    station_classes: dict[str, tuple[str, ...]]
    rootcause_window_h: float = 24.0
    rootcause_min_defects: int = 3
    proposal_min_cases: int = 20
    proposal_min_false_alarms: int = 3

    @property
    def lines(self) -> frozenset[str]:
        return frozenset(c.line_id for c in self.cells)

    def cell(self, cell_id: str) -> CellInfo:
        for cell in self.cells:
            if cell.cell_id == cell_id:
                return cell
        raise KeyError(f"unknown cell {cell_id!r}")

    def policy_for(self, cell_id: str) -> RoutingPolicy:
        return self.policies[self.cell(cell_id).station]

    @classmethod
    def load(cls, path: Path) -> PlantConfig:
        """Read and validate the plant file and the routing policies it names."""
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"plant config {path}: {exc}") from exc
        if not isinstance(doc, dict):
            raise ValueError(f"plant config {path}: must be a mapping")
        cells = _cells(doc.get("lines"))
        routing_dir = path.parent / str(doc.get("routing_dir", "routing"))
        policies = {}
        for station in sorted({c.station for c in cells}):
            policy_path = routing_dir / f"{station}.yaml"
            try:
                policy = RoutingPolicy.from_yaml(policy_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ValueError(
                    f"routing policy of station {station!r} ({policy_path}): {exc}"
                ) from exc
            if policy.station != station:
                raise ValueError(
                    f"{policy_path} is for station {policy.station!r}, not {station!r}"
                )
            policies[station] = policy
        stations = doc.get("stations") or {}
        if not isinstance(stations, dict):
            raise ValueError("plant config: stations must map a station to its settings")
        classes = {
            station: tuple(str(c) for c in (stations.get(station) or {}).get("classes", []))
            for station in policies
        }
        rootcause = doc.get("rootcause") or {}
        proposals = doc.get("thresholds") or {}
        return cls(
            name=str(doc.get("plant", "plant")),
            cells=cells,
            shifts=ShiftCalendar.from_config(
                doc.get("shifts") or [{"name": "day", "start": "00:00"}],
                str(doc.get("timezone", "UTC")),
                float(doc.get("review_min_s", 1800)),
            ),
            policies=policies,
            station_classes=classes,
            rootcause_window_h=float(rootcause.get("window_h", 24.0)),
            rootcause_min_defects=int(rootcause.get("min_defects", 3)),
            proposal_min_cases=int(proposals.get("min_cases", 20)),
            proposal_min_false_alarms=int(proposals.get("min_false_alarms", 3)),
        )


def _cells(lines: Any) -> tuple[CellInfo, ...]:
    if not isinstance(lines, list) or not lines:
        raise ValueError("plant config: lines must be a non-empty list")
    cells: list[CellInfo] = []
    for line in lines:
        if not isinstance(line, dict) or not line.get("id"):
            raise ValueError("plant config: every line needs an id")
        for cell in line.get("cells") or []:
            if not isinstance(cell, dict) or not cell.get("id") or not cell.get("station"):
                raise ValueError(
                    f"plant config: line {line['id']}: every cell needs id and station"
                )
            cells.append(
                CellInfo(
                    str(cell["id"]),
                    str(line["id"]),
                    str(cell["station"]),
                    str(cell.get("machine", "")),
                )
            )
    ids = [c.cell_id for c in cells]
    if len(set(ids)) != len(ids):
        raise ValueError("plant config: cell ids must be unique")
    return tuple(cells)
