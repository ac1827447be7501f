"""A station params file for tests: the shipped bottle.yaml with paths and ports moved to tmp."""

from __future__ import annotations

import socket
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def station_config(tmp: Path, model: Path, images: Path, nodes: list[str] | None = None) -> Path:
    config = yaml.safe_load((REPO / "config" / "bottle.yaml").read_text())
    params = {k: v["ros__parameters"] for k, v in config.items()}
    if nodes is not None:
        params["cell"]["nodes"] = nodes
    params["/**"].update(model_dir=str(model), audit_path=str(tmp / "audit.log"))
    params["/**/camera"].update(source=str(images), rate_hz=5.0)
    params["/**/actuator"]["modbus_port"] = free_port()
    params["/**/recorder"].update(evidence_dir=str(tmp / "evidence"), key_file=str(tmp / "key"))
    params["/**/bridge"].update(outbox_path=str(tmp / "outbox.db"))
    path = tmp / "station.yaml"
    path.write_text(yaml.safe_dump({k: {"ros__parameters": v} for k, v in params.items()}))
    return path
