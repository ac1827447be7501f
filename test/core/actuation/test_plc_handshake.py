"""PLC handshake registers against a real pymodbus server and a PLC-side Modbus client."""

from __future__ import annotations

import pytest
from pymodbus.client import ModbusTcpClient

from inspection_nodes.core.actuation.modbus import ModbusTarget
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
