"""What the actuator reports about itself: one health line, and the PLC's error code.

Both come from the same two facts, so the diagnostics and the PLC handshake can never disagree:
the gate's heartbeat is lost (units without a verdict get a fail-safe reject), or the reject
output is down (reconnecting).
"""

from __future__ import annotations

from dataclasses import dataclass

from inspection_nodes.core.actuation.plc_handshake import ErrorCode
from inspection_nodes.core.common.health import HealthLevel


@dataclass(frozen=True)
class ActuatorStatus:
    level: HealthLevel
    message: str
    plc_error: ErrorCode


def actuator_status(gate_lost: bool, output_down: bool) -> ActuatorStatus:
    """ERROR with every problem named, else OK "active"; the PLC sees the output first."""
    problems = [t for t, bad in (("gate lost", gate_lost), ("output down", output_down)) if bad]
    level = HealthLevel.ERROR if problems else HealthLevel.OK
    error = ErrorCode.GATE_LOST if gate_lost else ErrorCode.NONE
    return ActuatorStatus(
        level, ", ".join(problems) or "active", ErrorCode.OUTPUT_DOWN if output_down else error
    )
