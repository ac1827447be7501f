"""Reject output on a Modbus TCP coil or holding register (pymodbus client)."""

from __future__ import annotations

from dataclasses import dataclass

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from inspection_nodes.core.actuation.output import OutputError

TARGETS = ("coil", "register")


@dataclass(frozen=True)
class ModbusTarget:
    """Where the reject line is: a PLC (or the embedded server) and one coil or register."""

    host: str = "127.0.0.1"
    port: int = 15020
    unit_id: int = 1
    target: str = "coil"
    address: int = 0
    on_value: int = 1
    timeout_ms: float = 50.0

    def validate(self) -> ModbusTarget:
        checks = (
            ("modbus_host", bool(self.host.strip()), "must not be empty"),
            ("modbus_port", 1 <= self.port <= 65535, "must be in [1, 65535]"),
            ("modbus_unit_id", 0 <= self.unit_id <= 247, "must be in [0, 247]"),
            ("modbus_target", self.target in TARGETS, f"must be one of {', '.join(TARGETS)}"),
            ("modbus_address", 0 <= self.address <= 65535, "must be in [0, 65535]"),
            ("modbus_on_value", 1 <= self.on_value <= 65535, "must be in [1, 65535]"),
            ("modbus_timeout_ms", self.timeout_ms > 0, "must be > 0"),
        )
        for name, ok, why in checks:
            if not ok:
                raise ValueError(f"actuator parameter {name} {why}")
        return self


def modbus_client(target: ModbusTarget) -> ModbusTcpClient:
    """A client that fails fast: no retries (a retry would fire late), short timeout."""
    return ModbusTcpClient(
        target.host, port=target.port, timeout=target.timeout_ms / 1000.0, retries=0
    )


class ModbusOutput:
    """Writes the coil (True/False) or the register (on_value/0) of `target`."""

    name = "modbus"

    def __init__(self, target: ModbusTarget) -> None:
        self.target = target.validate()
        self._client = modbus_client(target)

    def connect(self) -> None:
        if not self._client.connect():
            raise OutputError(f"modbus: cannot connect to {self.target.host}:{self.target.port}")

    def write(self, on: bool) -> None:
        t = self.target
        try:
            if t.target == "coil":
                reply = self._client.write_coil(t.address, on, device_id=t.unit_id)
            else:
                value = t.on_value if on else 0
                reply = self._client.write_register(t.address, value, device_id=t.unit_id)
        except ModbusException as exc:
            raise OutputError(f"modbus: {exc}") from exc
        if reply.isError():
            raise OutputError(f"modbus: {t.target} {t.address} write refused: {reply}")

    def close(self) -> None:
        self._client.close()
