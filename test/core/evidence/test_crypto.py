"""Evidence key handling: file permissions, encodings, wrong key, missing key."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from inspection_nodes.core.evidence.crypto import (
    KEY_ENV,
    Cipher,
    EvidenceKeyError,
    generate_key_file,
    load_key,
)


def test_generated_key_file_is_private_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "key"
    generate_key_file(path)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert len(load_key(path)) == 32
    with pytest.raises(FileExistsError):
        generate_key_file(path)


def test_group_readable_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key"
    generate_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(EvidenceKeyError, match="chmod 600"):
        load_key(path)


@pytest.mark.parametrize(
    ("environ", "match"),
    [
        ({}, "no evidence key"),
        ({KEY_ENV: "not base64!"}, "not base64"),
        ({KEY_ENV: base64.b64encode(b"short").decode()}, "needs 32"),
    ],
)
def test_bad_or_missing_key_from_env(environ: dict[str, str], match: str) -> None:
    with pytest.raises(EvidenceKeyError, match=match):
        load_key("", environ)


def test_missing_key_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(EvidenceKeyError, match="nope"):
        load_key(tmp_path / "nope")


def test_round_trip_and_wrong_key_or_context() -> None:
    key, other = os.urandom(32), os.urandom(32)
    blob = Cipher(key).seal(b"pixels", b"1:frame")
    assert Cipher(key).open(blob, b"1:frame") == b"pixels"
    assert b"pixels" not in blob
    with pytest.raises(EvidenceKeyError, match="wrong key"):
        Cipher(other).open(blob, b"1:frame")
    with pytest.raises(EvidenceKeyError):
        Cipher(key).open(blob, b"2:frame")  # moved to another unit
