"""An embedded Modbus TCP server (pymodbus) so the cell works out of the box without a PLC.

`EmbeddedModbusServer` runs its own asyncio loop in a daemon thread. Every write can be reported
to `on_write` with the monotonic time it reached the server, which tests use to time edges.
`ServerProcess` runs the same server in a child process (`python -m` this module): the actuator
and the benchmark use it so the server's Python work never holds the actuator's GIL at an edge
(in one process it delayed edges by 1-5 ms). CLOCK_MONOTONIC is shared by all processes, so the
child's timestamps (`--log-writes`) compare with the parent's fire times.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import SimData, SimDevice
from pymodbus.simulator.simutils import DataType

from inspection_nodes.core.actuation.scheduler import try_realtime

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


class ServerProcess:
    """The embedded server as a child process; `port` is known once `start()` returns."""

    def __init__(self, host: str, port: int, log_writes: str = "") -> None:
        self.host, self.port, self.log_writes = host, port, log_writes
        self._proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        cmd = [sys.executable, "-m", __name__, "--host", self.host, "--port", str(self.port)]
        if self.log_writes:
            cmd += ["--log-writes", self.log_writes]
        self._proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        ready = threading.Event()
        line: list[str] = []

        def read_first_line() -> None:
            line.append(self._proc.stdout.readline())
            ready.set()

        threading.Thread(target=read_first_line, daemon=True).start()
        if not ready.wait(timeout_s) or not line[0].startswith("listening "):
            error = "" if self._proc.poll() is None else self._proc.stderr.read().strip()
            self.stop()
            raise OSError(f"modbus server cannot listen on {self.host}:{self.port}: {error}")
        self.port = int(line[0].split()[1])

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for stream in (self._proc.stdout, self._proc.stderr):
            stream.close()
        self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None


def main(argv: list[str] | None = None) -> int:
    """Child entry: serve until SIGTERM/SIGINT; announce `listening PORT` on stdout."""
    parser = argparse.ArgumentParser(description="embedded Modbus TCP server of the cell")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=15020)
    parser.add_argument("--log-writes", default="", help="append 'mono_ns fc address values'")
    args = parser.parse_args(argv)
    log = open(args.log_writes, "a", buffering=1) if args.log_writes else None  # noqa: SIM115

    def on_write(mono_ns: int, fc: int, address: int, values: list) -> None:
        log.write(f"{mono_ns} {fc} {address} {' '.join(str(int(v)) for v in values)}\n")

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    try_realtime()  # stands in for a PLC: answer at once even on a busy 2-core machine
    server = EmbeddedModbusServer(args.host, args.port, on_write if log else None)
    try:
        server.start()
    except OSError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"listening {server.port}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop()
    if log:
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
