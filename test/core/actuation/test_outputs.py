"""Modbus register target, PLC handshake registers (real server) and GPIO availability."""

from __future__ import annotations

import importlib.util

import pytest
from pymodbus.client import ModbusTcpClient

from inspection_nodes.core.actuation.gpio import GpioOutput
from inspection_nodes.core.actuation.modbus import ModbusOutput, ModbusTarget
from inspection_nodes.core.actuation.output import OutputError
from inspection_nodes.core.actuation.plc_handshake import (
    READY,
    RESULT_NG,
    RESULT_OK,
    ErrorCode,
    HandshakeError,
    PlcHandshake,
    Reg,
)

BASE = 100


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


def test_handshake_register_map(modbus_server):
    plc = ModbusTcpClient("127.0.0.1", port=modbus_server.port)
    assert plc.connect()
    hs = PlcHandshake(ModbusTarget(port=modbus_server.port), BASE)
    try:
        hs.state.ready = True
        assert hs.poll() == 0
        hs.result(passed=False)
        hs.poll()
        regs = plc.read_holding_registers(BASE, count=8, device_id=1).registers
        assert regs[Reg.STATUS] == READY
        assert (regs[Reg.RESULT_SEQ], regs[Reg.RESULT]) == (1, RESULT_NG)
        plc.write_register(BASE + Reg.TRIGGER, 3, device_id=1)
        assert hs.poll() == 3
        hs.result(passed=True)  # previous result never acknowledged
        hs.state.error = ErrorCode.GATE_LOST
        hs.poll()
        regs = plc.read_holding_registers(BASE, count=8, device_id=1).registers
        assert (regs[Reg.RESULT_SEQ], regs[Reg.RESULT], regs[Reg.UNACKED]) == (2, RESULT_OK, 1)
        assert regs[Reg.ERROR_CODE] == ErrorCode.GATE_LOST and regs[Reg.STATUS] & 4
        plc.write_register(BASE + Reg.ACK, 2, device_id=1)
        hs.poll()
        hs.result(passed=True)
        hs.poll()
        assert plc.read_holding_registers(BASE + Reg.UNACKED, count=1, device_id=1).registers == [1]
        assert regs[Reg.HEARTBEAT] == 4
        modbus_server.stop()
        with pytest.raises(HandshakeError):
            hs.poll()
    finally:
        hs.close()
        plc.close()


@pytest.mark.skipif(
    importlib.util.find_spec("gpiod") is not None or importlib.util.find_spec("Jetson") is not None,
    reason="a GPIO library is installed here",
)
def test_gpio_unavailable_is_a_clear_error():
    with pytest.raises(OutputError, match="GPIO unavailable"):
        GpioOutput("gpiochip0", 3)
