"""The one interface every reject output implements, and the reconnecting wrapper around it."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Protocol

from inspection_nodes.core.common.counters import EventCounters

BACKOFF_START_S = 0.05
BACKOFF_MAX_S = 2.0


class OutputCounter(StrEnum):
    """What ReconnectingOutput counts (the actuator node reports them with its own)."""

    OUTPUT_DISCONNECTS = "output_disconnects"
    OUTPUT_RECONNECTS = "output_reconnects"


class OutputError(RuntimeError):
    """The output could not be reached or refused a write; the message says which and why."""


class Output(Protocol):
    """A digital reject line: a Modbus coil/register or a GPIO pin."""

    name: str

    def connect(self) -> None:
        """Open the device or connection; raise OutputError with the reason."""

    def write(self, on: bool) -> None:
        """Drive the line; raise OutputError when it could not be done."""

    def close(self) -> None:
        """Release the device; never raises."""


class ReconnectingOutput:
    """Keeps an output usable across outages: writes fail fast while it is down (so a missed
    actuation is reported at its time, not after a connect timeout) and a background thread
    reconnects with exponential backoff, then drives the line off (safe state) before use.
    """

    def __init__(
        self,
        output: Output,
        counters: EventCounters,
        on_change: Callable[[bool, str], None] = lambda up, detail: None,
    ) -> None:
        self.output = output
        self.name = output.name
        self._counters = counters
        self._on_change = on_change
        self._lock = threading.Lock()
        self._up = False
        self._stop = threading.Event()
        self._down = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def up(self) -> bool:
        return self._up

    def start(self) -> None:
        """Try to connect now; keep trying in the background if that fails."""
        self._stop.clear()
        self._try_connect()
        self._thread = threading.Thread(target=self._reconnect_loop, name="output-reconnect")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._down.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        with self._lock:
            if self._up:
                with contextlib.suppress(OutputError):
                    self.output.write(False)
            self._up = False
            self.output.close()

    def write(self, on: bool) -> None:
        """Drive the line or raise OutputError at once; a failure starts reconnecting."""
        with self._lock:
            if not self._up:
                raise OutputError(f"{self.name} output is down (reconnecting)")
            try:
                self.output.write(on)
                return
            except OutputError as exc:
                self._mark_down(str(exc))
                raise

    def _mark_down(self, detail: str) -> None:
        self._up = False
        self.output.close()
        self._counters.inc(OutputCounter.OUTPUT_DISCONNECTS)
        self._down.set()
        self._on_change(False, detail)

    def _try_connect(self) -> bool:
        with self._lock:
            try:
                self.output.connect()
                self.output.write(False)
            except OutputError:
                self.output.close()
                return False
            self._up = True
            self._down.clear()
        self._on_change(True, "connected")
        return True

    def _reconnect_loop(self) -> None:
        delay = BACKOFF_START_S
        while not self._stop.is_set():
            if self._up:
                self._down.wait()
                delay = BACKOFF_START_S
                continue
            if self._try_connect():
                self._counters.inc(OutputCounter.OUTPUT_RECONNECTS)
                continue
            self._stop.wait(delay)
            delay = min(delay * 2.0, BACKOFF_MAX_S)
