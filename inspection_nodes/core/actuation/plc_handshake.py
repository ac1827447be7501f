"""PLC handshake through holding registers, like the I/O block of commercial vision sensors.

Register map (holding registers, offsets from the configured base address):

| offset | name       | writer | meaning                                                    |
|--------|------------|--------|------------------------------------------------------------|
| 0      | HEARTBEAT  | vision | +1 every poll; the PLC stops the line when it stands still |
| 1      | STATUS     | vision | bit0 READY, bit1 BUSY (units awaiting a verdict), bit2 ERROR |
| 2      | ERROR_CODE | vision | 0 none, 1 gate heartbeat lost, 2 reject output down        |
| 3      | RESULT_SEQ | vision | +1 for every verdict (wraps at 65536)                      |
| 4      | RESULT     | vision | 1 OK (PASS), 2 NG (FAIL) of the verdict RESULT_SEQ names   |
| 5      | ACK        | PLC    | the RESULT_SEQ the PLC has consumed                        |
| 6      | TRIGGER    | PLC    | +1 to request a capture (published on `trigger`)           |
| 7      | UNACKED    | vision | results overwritten before the PLC acknowledged them       |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from pymodbus.exceptions import ModbusException

from inspection_nodes.core.actuation.modbus import ModbusTarget, modbus_client

REGISTERS = 8
WRAP = 65536


class Reg(IntEnum):
    HEARTBEAT = 0
    STATUS = 1
    ERROR_CODE = 2
    RESULT_SEQ = 3
    RESULT = 4
    ACK = 5
    TRIGGER = 6
    UNACKED = 7


class ErrorCode(IntEnum):
    NONE = 0
    GATE_LOST = 1
    OUTPUT_DOWN = 2


READY, BUSY, ERROR = 1, 2, 4
RESULT_OK, RESULT_NG = 1, 2


@dataclass
class HandshakeState:
    """What the vision side tells the PLC; written as one block on every poll."""

    ready: bool = False
    busy: bool = False
    error: ErrorCode = ErrorCode.NONE
    heartbeat: int = 0
    result_seq: int = 0
    result: int = 0
    unacked: int = 0


class PlcHandshake:
    """Polls the register block: writes the vision side, reads TRIGGER and ACK."""

    def __init__(self, target: ModbusTarget, base: int) -> None:
        if not 0 <= base <= WRAP - REGISTERS:
            raise ValueError(f"actuator parameter handshake_base must be in [0, {WRAP - 8}]")
        self.target, self.base = target, base
        self.state = HandshakeState()
        self._client = modbus_client(target)
        self._last_trigger: int | None = None
        self._acked = 0

    def result(self, passed: bool) -> None:
        """A verdict for the PLC; counts the previous one if the PLC never acknowledged it."""
        s = self.state
        if s.result_seq and self._acked != s.result_seq:
            s.unacked = (s.unacked + 1) % WRAP
        s.result_seq = s.result_seq % (WRAP - 1) + 1
        s.result = RESULT_OK if passed else RESULT_NG

    def poll(self) -> int:
        """One exchange; returns how many captures the PLC requested since the last poll.

        Raises HandshakeError when the PLC is unreachable; the next poll reconnects.
        """
        s = self.state
        s.heartbeat = (s.heartbeat + 1) % WRAP
        status = (READY if s.ready else 0) | (BUSY if s.busy else 0) | (ERROR if s.error else 0)
        try:
            if not self._client.connect():
                raise HandshakeError(f"cannot connect to {self.target.host}:{self.target.port}")
            unit = self.target.unit_id
            head = [s.heartbeat, status, int(s.error), s.result_seq, s.result]
            reply = self._client.write_registers(self.base, head, device_id=unit)
            if reply.isError():
                raise HandshakeError(f"write refused: {reply}")
            read = self._client.read_holding_registers(self.base + Reg.ACK, count=2, device_id=unit)
            if read.isError():
                raise HandshakeError(f"read refused: {read}")
            reply = self._client.write_register(self.base + Reg.UNACKED, s.unacked, device_id=unit)
            if reply.isError():
                raise HandshakeError(f"write refused: {reply}")
        except ModbusException as exc:
            self._client.close()
            raise HandshakeError(str(exc)) from exc
        self._acked, trigger = read.registers
        if self._last_trigger is None:
            self._last_trigger = trigger
        new = (trigger - self._last_trigger) % WRAP
        self._last_trigger = trigger
        return new

    def close(self) -> None:
        self._client.close()


class HandshakeError(RuntimeError):
    """The PLC could not be reached or refused the exchange."""
