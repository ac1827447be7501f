"""Commands over MQTT: signed, stored first, re-sent byte-identical, confirmed by PUBACK."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from helpers.backend_services import wait_until

from inspection_backend.adapters.cell_commands import CommandNotSent, CommandSender
from inspection_backend.core.commands import CommandType, SigningKey, verify_command
from inspection_backend.services.postgres import free_port
from inspection_backend.settings import MqttSettings
from inspection_backend.simulator.cell import SimulatedCell


@pytest.fixture
def key(tmp_path) -> SigningKey:
    SigningKey.generate(tmp_path / "k.pem")
    return SigningKey.load(tmp_path / "k.pem", "backend")


def test_command_reaches_the_cell_and_a_resend_is_identical(broker, engine, key):
    settings = MqttSettings("127.0.0.1", broker.port)
    cell = SimulatedCell(settings, ["cell-1"], key.public_b64).start()
    sender = CommandSender(settings, "test-cmd", key, engine)
    sender.start()
    try:
        first = sender.send("hold:c1", CommandType.LINE_HOLD, "cell-1", {"reason": "crack"})
        second = sender.send("hold:c1", CommandType.LINE_HOLD, "cell-1", {"reason": "other"})
        assert first == second and verify_command(first, key.public_b64)
        got = wait_until(lambda: len(cell.received("line_hold")) == 2 and cell.received(), 10)
        assert [c.document for c in got] == [first, first]
        assert cell.applied == {"hold:c1"} and cell.held["cell-1"]
        with engine.connect() as conn:
            published = conn.execute(sa.text("SELECT published_at FROM commands")).scalar()
        assert published is not None
    finally:
        sender.stop()
        cell.stop()


def test_no_broker_means_not_sent(engine, key):
    sender = CommandSender(MqttSettings("127.0.0.1", free_port()), "x", key, engine)
    sender.start()
    try:
        document = sender.document("hold:c2", CommandType.LINE_HOLD, "cell-1", {"reason": "r"})
        with pytest.raises(CommandNotSent, match="not connected"):
            sender.publish(document, timeout_s=0.5)
    finally:
        sender.stop()
