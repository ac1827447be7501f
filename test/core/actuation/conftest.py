"""A real pymodbus server on a free loopback port that timestamps every write it receives."""

from __future__ import annotations

import threading

import pytest

from inspection_nodes.core.actuation.modbus_server import EmbeddedModbusServer


class WriteLog:
    """Coil/register writes as (monotonic ns, function code, address, values)."""

    def __init__(self) -> None:
        self.writes: list[tuple[int, int, int, list]] = []
        self._lock = threading.Lock()

    def __call__(self, mono_ns: int, fc: int, address: int, values: list) -> None:
        with self._lock:
            self.writes.append((mono_ns, fc, address, values))

    def edges(self, address: int = 0) -> list[tuple[int, bool]]:
        """(time, value) of every change of one coil or register, initial state off."""
        out, last = [], False
        with self._lock:
            for t, _fc, addr, values in self.writes:
                if addr == address and bool(values[0]) != last:
                    last = bool(values[0])
                    out.append((t, last))
        return out


@pytest.fixture
def modbus_server():
    log = WriteLog()
    server = EmbeddedModbusServer("127.0.0.1", 0, on_write=log)
    server.start()
    server.log = log
    yield server
    server.stop()
