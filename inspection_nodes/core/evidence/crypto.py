"""AES-256-GCM for evidence at rest, and the rules for where its key comes from.

The key is 32 random bytes, base64-encoded, in a file only its owner can read (mode 0600; anything
looser is refused) or in the environment variable INSPECTION_EVIDENCE_KEY. Each blob gets a fresh
96-bit nonce and is bound to its row by associated data (capture stamp + item kind), so a blob
copied onto another unit does not decrypt either.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_ENV = "INSPECTION_EVIDENCE_KEY"
KEY_BYTES = 32
NONCE_BYTES = 12


class EvidenceKeyError(RuntimeError):
    """The key is missing, unreadable, too open, malformed, or not the store's key."""


def generate_key_file(path: Path) -> None:
    """Write a new random key, base64, mode 0600; refuses to overwrite an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(base64.b64encode(os.urandom(KEY_BYTES)).decode() + "\n")


def _decode(text: str, origin: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EvidenceKeyError(f"evidence key from {origin} is not base64: {exc}") from exc
    if len(key) != KEY_BYTES:
        raise EvidenceKeyError(
            f"evidence key from {origin} has {len(key)} bytes; AES-256 needs {KEY_BYTES}"
        )
    return key


def load_key(key_file: str | Path = "", environ: Mapping[str, str] = os.environ) -> bytes:
    """The key from `key_file` if given, else from $INSPECTION_EVIDENCE_KEY; clear errors."""
    if key_file:
        path = Path(key_file)
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise EvidenceKeyError(f"evidence key file {path}: {exc.strerror}") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise EvidenceKeyError(
                f"evidence key file {path} has mode {stat.S_IMODE(mode):04o}; it must be "
                f"readable by its owner only (chmod 600 {path})"
            )
        return _decode(path.read_text(), str(path))
    if environ.get(KEY_ENV):
        return _decode(environ[KEY_ENV], f"${KEY_ENV}")
    raise EvidenceKeyError(
        f"no evidence key: set the key_file parameter or ${KEY_ENV} "
        "(create one with `inspection keygen --out PATH`)"
    )


class Cipher:
    """Seal and open blobs with one key; `key_id` names the key without revealing it."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise EvidenceKeyError(f"evidence key must be {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"inspection-evidence-key-id:" + key).hexdigest()[:16]

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, blob: bytes, aad: bytes) -> bytes:
        try:
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except InvalidTag as exc:
            raise EvidenceKeyError("evidence blob does not decrypt: wrong key or altered") from exc
