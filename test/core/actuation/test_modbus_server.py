"""The embedded Modbus server: in a thread (writes reported with their time) and as a child
process (writes logged to a file, port announced, clean stop), with a real Modbus client."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from pymodbus.client import ModbusTcpClient

from inspection_nodes.core.actuation.modbus_server import (
    COIL_WRITE_CODES,
    EmbeddedModbusServer,
    ServerProcess,
)


def test_threaded_server_reports_every_write_with_its_time():
    writes = []
    server = EmbeddedModbusServer("127.0.0.1", 0, on_write=lambda *w: writes.append(w))
    server.start()
    client = ModbusTcpClient("127.0.0.1", port=server.port)
    try:
        assert server.port > 0 and client.connect()
        before = time.monotonic_ns()
        client.write_coil(3, True, device_id=1)
        client.write_register(10, 42, device_id=1)
        assert client.read_coils(3, count=1, device_id=1).bits[0]
    finally:
        client.close()
        server.stop()
    (t1, fc1, a1, v1), (_, fc2, a2, v2) = writes
    assert fc1 in COIL_WRITE_CODES and (a1, bool(v1[0])) == (3, True) and t1 >= before
    assert (fc2, a2, v2) == (6, 10, [42])


def test_a_taken_port_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}"):
            EmbeddedModbusServer("127.0.0.1", port).start(timeout_s=3.0)


def test_child_process_server_logs_writes_and_stops(tmp_path: Path):
    log = tmp_path / "writes.txt"
    server = ServerProcess("127.0.0.1", 0, log_writes=str(log))
    server.start()
    client = ModbusTcpClient("127.0.0.1", port=server.port)
    try:
        assert server.running and client.connect()
        client.write_coil(0, True, device_id=1)
        client.write_coil(0, False, device_id=1)
    finally:
        client.close()
        server.stop()
    assert not server.running
    lines = [line.split() for line in log.read_text().splitlines()]
    assert [(int(fc) in COIL_WRITE_CODES, a, v) for _, fc, a, v in lines] == [
        (True, "0", "1"),
        (True, "0", "0"),
    ]
