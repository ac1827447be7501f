"""Backend commands: schema validation, authorisation, replay, and a reason for every rejection."""

from __future__ import annotations

import json

import pytest

from inspection_nodes.core.bridge.commands import CommandPolicy, result_message
from inspection_nodes.core.bridge.payloads import validator


def _cmd(**over) -> bytes:
    doc = {
        "schema": "inspection/command/1",
        "id": "c-1",
        "type": "threshold_update",
        "issued_by": "backend",
        "params": {"name": "score_threshold", "value": 3.5, "reason": "drift"},
    }
    doc.update(over)
    return json.dumps(doc).encode()


def _policy(*allowed: str, issuers: tuple[str, ...] = ()) -> CommandPolicy:
    return CommandPolicy("cell-1", allowed or ("threshold_update", "line_hold"), issuers)


def test_valid_allowed_command_is_accepted() -> None:
    decision = _policy().decide(_cmd())
    assert decision.accepted, decision.reason
    assert decision.params == {"name": "score_threshold", "value": 3.5, "reason": "drift"}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"{nope", "not UTF-8 JSON"),
        (b"[1, 2]", "schema"),
        (_cmd(type="self_destruct"), "schema: type"),
        (_cmd(params={"name": "score_threshold"}), "schema: params"),
        (_cmd(params={"name": "x; rm -rf", "value": 1, "reason": ""}), "schema: params/name"),
        (_cmd(type="recalibration", params={"units": -5}), "schema: params/units"),
        (_cmd(extra=1), "schema"),
        (_cmd(cell_id="cell-2"), "this is 'cell-1'"),
        (_cmd(type="line_release", params={"reason": "x"}), "not allowed by config"),
        (b" " * 70000, "larger than"),
    ],
)
def test_malformed_or_unauthorised_commands_are_rejected_with_reason(raw: bytes, reason) -> None:
    decision = _policy().decide(raw)
    assert not decision.accepted
    assert reason in decision.reason
    assert decision.command_id


def test_issuer_allow_list_and_replay() -> None:
    policy = _policy(issuers=("mes",))
    assert "issuer 'backend'" in policy.decide(_cmd()).reason
    assert policy.decide(_cmd(issued_by="mes")).accepted
    assert "duplicate command id" in policy.decide(_cmd(issued_by="mes")).reason


def test_unknown_allowed_type_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="unknown types"):
        CommandPolicy("c", ("line_hold", "reboot"))


def test_result_message_matches_its_schema() -> None:
    for decision in (_policy().decide(_cmd()), _policy().decide(b"junk")):
        message = result_message("cell-1", decision)
        validator("command_result").validate(message)
        assert message["body"]["accepted"] is decision.accepted
