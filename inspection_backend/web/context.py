"""What the page's routes need from the running backend, handed in once (no globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from inspection_backend.core.commands import CommandType
from inspection_backend.core.plant import PlantConfig
from inspection_backend.settings import Settings

# Tells a waiting workflow that people changed something: (workflow id, message, topic).
NotifyWorkflow = Callable[[str, dict[str, Any], str], None]
# Sends a signed command to a cell: (command id, type, cell id, params) -> document.
SendCommand = Callable[[str, CommandType, str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class WebContext:
    engine: sa.Engine
    settings: Settings
    plant: PlantConfig
    notify_workflow: NotifyWorkflow
    send_command: SendCommand
    health: Callable[[], dict[str, Any]]
