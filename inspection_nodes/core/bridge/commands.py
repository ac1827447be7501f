"""Commands from the orchestration backend: parse, validate against `schemas/command.json`,
authorise against the cell's config, and answer every one with a reason.

Nothing here raises on bad input: any payload (not UTF-8, not JSON, wrong shape, unknown type,
wrong cell, not allowed, replayed id) becomes a rejected `CommandDecision` whose reason goes back
to the backend and into the audit log. Applying an accepted command is the node's job.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import jsonschema

from inspection_nodes.core.bridge.payloads import envelope, validator


class CommandType(StrEnum):
    """What the backend may ask (`schemas/command.json`); each is allowed per cell by config."""

    LINE_HOLD = "line_hold"
    LINE_RELEASE = "line_release"
    THRESHOLD_UPDATE = "threshold_update"
    RECALIBRATION = "recalibration"


COMMAND_TYPES = tuple(CommandType)
MAX_COMMAND_BYTES = 65536
_REMEMBERED_IDS = 10000


@dataclass(frozen=True)
class CommandDecision:
    """Accepted (apply `type` with `params`) or rejected with `reason`."""

    accepted: bool
    reason: str
    command_id: str
    type: str = ""
    issued_by: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def requested_by(self) -> str:
        """How an applied command names its requester in the cell's services and audit log."""
        return f"backend:{self.issued_by}"


class CommandPolicy:
    """Validation and authorisation of backend commands for one cell."""

    def __init__(
        self, cell_id: str, allowed_commands: tuple[str, ...], allowed_issuers: tuple[str, ...] = ()
    ) -> None:
        unknown = set(allowed_commands) - set(COMMAND_TYPES)
        if unknown:
            raise ValueError(
                f"allowed_commands has unknown types {sorted(unknown)}; "
                f"known: {', '.join(COMMAND_TYPES)}"
            )
        self.cell_id = cell_id
        self.allowed_commands = frozenset(allowed_commands)
        self.allowed_issuers = frozenset(allowed_issuers)
        self._seen: OrderedDict[str, None] = OrderedDict()

    def decide(self, raw: bytes) -> CommandDecision:
        """Turn raw MQTT payload bytes into a decision; never raises."""
        fallback_id = "sha256:" + hashlib.sha256(raw).hexdigest()[:16]
        if len(raw) > MAX_COMMAND_BYTES:
            return CommandDecision(
                False, f"command larger than {MAX_COMMAND_BYTES} bytes", fallback_id
            )
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return CommandDecision(False, f"not UTF-8 JSON: {exc}", fallback_id)
        command_id = doc.get("id") if isinstance(doc, dict) else None
        command_id = command_id if isinstance(command_id, str) and command_id else fallback_id
        error = jsonschema.exceptions.best_match(validator("command").iter_errors(doc))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            return CommandDecision(False, f"schema: {where}: {error.message}", command_id)
        kind, issuer = doc["type"], doc["issued_by"]

        def reject(reason: str) -> CommandDecision:
            return CommandDecision(False, reason, command_id, kind, issuer, doc["params"])

        if doc.get("cell_id", self.cell_id) != self.cell_id:
            return reject(f"addressed to cell {doc['cell_id']!r}, this is {self.cell_id!r}")
        if kind not in self.allowed_commands:
            return reject(f"command type {kind!r} is not allowed by config (allowed_commands)")
        if self.allowed_issuers and issuer not in self.allowed_issuers:
            return reject(f"issuer {issuer!r} is not allowed by config (allowed_issuers)")
        if command_id in self._seen:
            return reject("duplicate command id: already handled, not applied again")
        self._seen[command_id] = None
        if len(self._seen) > _REMEMBERED_IDS:
            self._seen.popitem(last=False)
        return CommandDecision(
            True, "accepted", command_id, CommandType(kind), issuer, doc["params"]
        )


def result_message(cell_id: str, decision: CommandDecision, reason: str = "") -> dict[str, Any]:
    """The `command_result` payload answering a command (reason overrides, e.g. apply failed)."""
    body = {
        "command_id": decision.command_id,
        "command_type": decision.type,
        "accepted": decision.accepted,
        "reason": reason or decision.reason,
    }
    key = f"{decision.command_id}:{'ok' if decision.accepted else 'rejected'}"
    return envelope("command_result", cell_id, key, body)
