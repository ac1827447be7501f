"""The one place the backend touches the cell package: the message contract it shares with it.

The cell's JSON schemas (`inspection_nodes/schemas/*.json`) define what cells publish, and the
review keyboard script the cell's station page also uses (`inspection_nodes/web/static/`) is
served from the cell package. Both are read as package files, never by importing cell code, so
the backend keeps working whatever the cell's modules are called.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

CELL_PACKAGE = "inspection_nodes"
# The types a cell publishes under `inspection/<cell_id>/<type>`.
CELL_MESSAGE_TYPES = ("verdict", "actuator_event", "stability", "command_result")


@cache
def cell_schema(name: str) -> dict[str, Any]:
    """The cell's JSON schema `schemas/<name>.json`, parsed."""
    path = resources.files(CELL_PACKAGE).joinpath("schemas", f"{name}.json")
    return json.loads(path.read_text(encoding="utf-8"))


def shared_static_dir() -> Path:
    """Folder of the page assets shared with the cell's station page (review keys, CSS)."""
    return Path(str(resources.files(CELL_PACKAGE).joinpath("web", "static")))
