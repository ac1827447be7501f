"""Modbus reject output against a real pymodbus server: register target, bad targets, outages."""

from __future__ import annotations

import pytest

from inspection_nodes.core.actuation.modbus import ModbusOutput, ModbusTarget
from inspection_nodes.core.actuation.output import OutputError


def test_register_target_writes_on_value(modbus_server):
    out = ModbusOutput(
        ModbusTarget(port=modbus_server.port, target="register", address=7, on_value=5)
    )
    out.connect()
    out.write(True)
    out.write(False)
    out.close()
    assert [(a, v) for _t, _fc, a, v in modbus_server.log.writes] == [(7, [5]), (7, [0])]


def test_bad_target_rejected():
    with pytest.raises(ValueError, match="modbus_target must be one of coil, register"):
        ModbusTarget(target="relay").validate()


def test_unreachable_server_raises_output_error(modbus_server):
    out = ModbusOutput(ModbusTarget(port=modbus_server.port))
    modbus_server.stop()
    with pytest.raises(OutputError, match="cannot connect"):
        out.connect()
