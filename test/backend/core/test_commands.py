"""Signed v2 commands: the exact canonical bytes, a signature that `cryptography` verifies with
the exported public key, tampering detected, key file rules."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from inspection_backend.core.commands import (
    CommandType,
    SigningKey,
    build_command,
    canonical_bytes,
    verify_command,
)

ISSUED = datetime(2026, 12, 2, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def key(tmp_path) -> SigningKey:
    path = tmp_path / "key.pem"
    SigningKey.generate(path)
    return SigningKey.load(path, "backend")


def test_document_has_the_v2_shape(key):
    doc = build_command(key, "hold:c1", CommandType.LINE_HOLD, "cell-1", {"reason": "r"}, ISSUED)
    assert doc["schema"] == "inspection/command/2"
    assert doc["issued_at"] == "2026-12-02T12:00:00.123Z"
    assert doc["issued_by"] == doc["signature"]["key_id"] == "backend"
    assert doc["signature"]["alg"] == "ed25519"
    assert len(base64.b64decode(doc["signature"]["value"])) == 64


def test_signature_verifies_with_cryptography_over_the_specified_bytes(key):
    doc = build_command(
        key,
        "threshold:7",
        CommandType.THRESHOLD_UPDATE,
        "cell-1",
        {"name": "score_threshold", "value": 2.5, "reason": "r", "approved_by": ["alice", "bob"]},
        ISSUED,
    )
    unsigned = {k: v for k, v in doc.items() if k != "signature"}
    signed_bytes = json.dumps(
        unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert canonical_bytes(doc) == signed_bytes
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_b64))
    public.verify(base64.b64decode(doc["signature"]["value"]), signed_bytes)  # raises if bad
    assert verify_command(doc, key.public_b64)


def test_non_ascii_params_are_signed_as_utf8(key):
    doc = build_command(key, "h", CommandType.LINE_HOLD, "cell-1", {"reason": "Riss läuft"}, ISSUED)
    assert "Riss läuft".encode() in canonical_bytes(doc)
    assert verify_command(doc, key.public_b64)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["params"].update(reason="other"),
        lambda d: d.update(cell_id="cell-2"),
        lambda d: d.update(issued_by="mallory"),
        lambda d: d["signature"].update(value=base64.b64encode(b"\0" * 64).decode()),
        lambda d: d.pop("signature"),
    ],
)
def test_tampered_documents_do_not_verify(key, tamper):
    doc = build_command(key, "h", CommandType.LINE_HOLD, "cell-1", {"reason": "r"}, ISSUED)
    tamper(doc)
    assert not verify_command(doc, key.public_b64)


def test_other_key_does_not_verify(key, tmp_path):
    other = tmp_path / "other.pem"
    public_other = SigningKey.generate(other)
    doc = build_command(key, "h", CommandType.LINE_HOLD, "cell-1", {"reason": "r"}, ISSUED)
    assert not verify_command(doc, public_other)


def test_key_file_is_0600_and_never_replaced(tmp_path):
    path = tmp_path / "k.pem"
    public = SigningKey.generate(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert len(base64.b64decode(public)) == 32
    with pytest.raises(FileExistsError):
        SigningKey.generate(path)


def test_readable_key_file_is_refused(tmp_path):
    path = tmp_path / "k.pem"
    SigningKey.generate(path)
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError, match="0600"):
        SigningKey.load(path, "backend")


def test_command_id_length_is_checked(key):
    with pytest.raises(ValueError):
        build_command(key, "x" * 129, CommandType.LINE_HOLD, "cell-1", {"reason": "r"}, ISSUED)
