"""The actuator's health line and PLC error code come from the same two facts."""

import pytest

from inspection_nodes.core.actuation.plc_handshake import ErrorCode
from inspection_nodes.core.actuation.status import actuator_status
from inspection_nodes.core.common.health import HealthLevel


@pytest.mark.parametrize(
    ("gate_lost", "output_down", "level", "message", "plc"),
    [
        (False, False, HealthLevel.OK, "active", ErrorCode.NONE),
        (True, False, HealthLevel.ERROR, "gate lost", ErrorCode.GATE_LOST),
        (False, True, HealthLevel.ERROR, "output down", ErrorCode.OUTPUT_DOWN),
        (True, True, HealthLevel.ERROR, "gate lost, output down", ErrorCode.OUTPUT_DOWN),
    ],
)
def test_status(gate_lost, output_down, level, message, plc):
    status = actuator_status(gate_lost, output_down)
    assert (status.level, status.message, status.plc_error) == (level, message, plc)
