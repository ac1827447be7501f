"""Reject output on a GPIO line: Jetson.GPIO on a Jetson, libgpiod (python `gpiod`) elsewhere.

Neither library is a dependency: on a machine without them the output reports a clear
"GPIO unavailable: ..." error at configure time instead of failing later.
"""

from __future__ import annotations

import importlib
from typing import Any

from inspection_nodes.core.actuation.output import OutputError


def _load(name: str) -> Any | None:
    try:
        return importlib.import_module(name)
    except (ImportError, RuntimeError):  # Jetson.GPIO raises RuntimeError off a Jetson
        return None


class GpioOutput:
    """One output pin. `chip`/`line` address libgpiod; `line` is the BOARD pin for Jetson.GPIO."""

    name = "gpio"

    def __init__(self, chip: str, line: int) -> None:
        self.chip, self.line = chip, line
        self._jetson = _load("Jetson.GPIO")
        self._gpiod = None if self._jetson else _load("gpiod")
        if self._jetson is None and self._gpiod is None:
            raise OutputError(
                "GPIO unavailable: neither Jetson.GPIO nor gpiod (libgpiod) can be imported"
            )
        self._request: Any = None

    def connect(self) -> None:
        try:
            if self._jetson is not None:
                self._jetson.setmode(self._jetson.BOARD)
                self._jetson.setup(self.line, self._jetson.OUT, initial=self._jetson.LOW)
                self._request = self._jetson
            else:
                gpiod = self._gpiod
                settings = gpiod.LineSettings(direction=gpiod.line.Direction.OUTPUT)
                self._request = gpiod.request_lines(
                    f"/dev/{self.chip}", consumer="inspection-reject", config={self.line: settings}
                )
        except Exception as exc:  # vendor libraries raise assorted types; report them all
            raise OutputError(f"GPIO unavailable: {self.chip} line {self.line}: {exc}") from exc

    def write(self, on: bool) -> None:
        if self._request is None:
            raise OutputError("GPIO line not open")
        try:
            if self._jetson is not None:
                self._jetson.output(self.line, self._jetson.HIGH if on else self._jetson.LOW)
            else:
                value = self._gpiod.line.Value.ACTIVE if on else self._gpiod.line.Value.INACTIVE
                self._request.set_value(self.line, value)
        except Exception as exc:
            raise OutputError(f"GPIO write failed: {exc}") from exc

    def close(self) -> None:
        if self._request is None:
            return
        try:
            if self._jetson is not None:
                self._jetson.cleanup(self.line)
            else:
                self._request.release()
        except Exception:  # closing is best effort; the process may be exiting
            pass
        self._request = None
