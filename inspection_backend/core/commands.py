"""Signed commands to a cell (`inspection/command/2`): build, sign, verify.

A cell applies a command only when its Ed25519 signature verifies with the backend's public key
from the cell's trust file, so a client that can publish on `inspection/<cell>/cmd` cannot hold
or release a line by itself. The signed bytes are the document without its `signature` key,
serialised canonically: `json.dumps(doc, sort_keys=True, separators=(",", ":"),
ensure_ascii=False).encode("utf-8")`. `key_id` equals `issued_by`. Command ids are derived from
what the command is about (`hold:<case id>`), so a workflow step that runs again after a crash
re-sends the same command and the cell answers it without applying it twice.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SCHEMA = "inspection/command/2"
ALGORITHM = "ed25519"
MAX_ID_CHARS = 128


class CommandType(StrEnum):
    LINE_HOLD = "line_hold"
    LINE_RELEASE = "line_release"
    THRESHOLD_UPDATE = "threshold_update"
    RECALIBRATION = "recalibration"


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """The exact bytes that are signed: the document minus `signature`, canonical JSON."""
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def utc_stamp(moment: datetime) -> str:
    """`2026-12-02T12:00:00.123Z`: UTC, milliseconds."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass(frozen=True)
class SigningKey:
    """The backend's Ed25519 key and the name (`issued_by` = `key_id`) it signs as."""

    private_key: Ed25519PrivateKey
    key_id: str

    @classmethod
    def load(cls, path: Path, key_id: str) -> SigningKey:
        """Read a PKCS8 PEM private key; refuses a file others can read."""
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise PermissionError(f"command key {path} has mode {mode:04o}; it must be 0600")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"command key {path} is not an Ed25519 key")
        return cls(key, key_id)

    @staticmethod
    def generate(path: Path) -> str:
        """Create a new key file (0600, never overwritten); returns the public key's base64."""
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        return public_key_b64(key.public_key())

    @property
    def public_b64(self) -> str:
        return public_key_b64(self.private_key.public_key())


def public_key_b64(public_key: Ed25519PublicKey) -> str:
    """Base64 of the 32 raw public-key bytes: the form the cell's trust file holds."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def build_command(
    key: SigningKey,
    command_id: str,
    command_type: CommandType,
    cell_id: str,
    params: dict[str, Any],
    issued_at: datetime,
) -> dict[str, Any]:
    """A complete signed v2 command document."""
    if not command_id or len(command_id) > MAX_ID_CHARS:
        raise ValueError(f"command id must be 1..{MAX_ID_CHARS} characters")
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "id": command_id,
        "type": str(command_type),
        "cell_id": cell_id,
        "issued_by": key.key_id,
        "issued_at": utc_stamp(issued_at),
        "params": params,
    }
    signature = key.private_key.sign(canonical_bytes(document))
    document["signature"] = {
        "alg": ALGORITHM,
        "key_id": key.key_id,
        "value": base64.b64encode(signature).decode("ascii"),
    }
    return document


def verify_command(document: dict[str, Any], public_b64: str) -> bool:
    """Whether the document's signature verifies with this public key (what a cell checks)."""
    signature = document.get("signature")
    if not isinstance(signature, dict) or signature.get("alg") != ALGORITHM:
        return False
    if signature.get("key_id") != document.get("issued_by"):
        return False
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64))
        public.verify(base64.b64decode(signature["value"]), canonical_bytes(document))
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False
    return True


def encode_command(document: dict[str, Any]) -> bytes:
    """The bytes published on MQTT (compact UTF-8 JSON)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
