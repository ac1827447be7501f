"""An embedded Modbus TCP server (pymodbus) so the cell works out of the box without a PLC.

It runs its own asyncio loop in a daemon thread. Every write can be reported to `on_write` with
the monotonic time it reached the server, which the benchmark and tests use to time edges.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import SimData, SimDevice
from pymodbus.simulator.simutils import DataType

SIZE = 256  # coils, discrete inputs, holding and input registers, each from address 0
COIL_WRITE_CODES = (5, 15)

WriteHook = Callable[[int, int, int, list], None]  # (mono_ns, function code, address, values)


class EmbeddedModbusServer:
    """Start with `start()` (raises OSError with the address if it cannot listen), `stop()`.

    Port 0 picks a free port (tests, benchmark); `port` then holds the one in use.
    """

    def __init__(self, host: str, port: int, on_write: WriteHook | None = None) -> None:
        self.host, self.port = host, port
        self._on_write = on_write
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout_s: float = 5.0) -> None:
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="modbus-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s) or self._error is not None:
            self.stop()
            raise OSError(f"modbus server cannot listen on {self.host}:{self.port}: {self._error}")

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is not None and server is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(server.shutdown(), loop).result(timeout=5.0)
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._thread = self._loop = self._server = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def _action(self, fc, _start, address, _count, _regs, values) -> None:
        if values is not None and self._on_write is not None:
            self._on_write(time.monotonic_ns(), fc, address, list(values))

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        def block(kind: DataType, value) -> list[SimData]:
            return [SimData(0, count=SIZE, values=value, datatype=kind)]

        bits, regs = DataType.BITS, DataType.REGISTERS
        device = SimDevice(
            id=0,  # answers every unit id, like a PLC that ignores it
            simdata=(block(bits, False), block(bits, False), block(regs, 0), block(regs, 0)),
            action=self._action,
        )
        self._loop = asyncio.get_running_loop()
        self._server = ModbusTcpServer(device, address=(self.host, self.port))
        await self._server.serve_forever(background=True)
        self.port = self._server.transport.sockets[0].getsockname()[1]
        self._ready.set()
        await self._server.serving
