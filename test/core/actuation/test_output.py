"""ReconnectingOutput against a real pymodbus server: fail fast while down, reconnect with
backoff, report every change, leave the line off."""

from __future__ import annotations

import pytest
from helpers.waiting import wait_for

from inspection_nodes.core.actuation.modbus import ModbusOutput, ModbusTarget
from inspection_nodes.core.actuation.output import OutputCounter, OutputError, ReconnectingOutput
from inspection_nodes.core.common.counters import EventCounters


def test_outage_is_reported_and_the_line_comes_back_off(modbus_server):
    counters, changes = EventCounters(OutputCounter), []
    output = ReconnectingOutput(
        ModbusOutput(ModbusTarget(port=modbus_server.port)),
        counters,
        lambda up, detail: changes.append((up, detail)),
    )
    output.start()
    try:
        assert output.up and changes == [(True, "connected")]
        output.write(True)
        modbus_server.stop()
        with pytest.raises(OutputError):
            output.write(False)
        assert not output.up and changes[-1][0] is False
        with pytest.raises(OutputError, match="down"):  # fails fast, no connect timeout
            output.write(True)
        modbus_server.start()
        assert wait_for(lambda: output.up)
        assert counters.snapshot() == {"output_disconnects": 1, "output_reconnects": 1}
        assert modbus_server.log.writes[-1][2:] == (0, [False])  # safe state after reconnect
    finally:
        output.stop()
    assert not output.up
