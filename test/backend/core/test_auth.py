"""Roles and passwords."""

from __future__ import annotations

import pytest

from inspection_backend.core.auth import (
    Permission,
    Role,
    allowed,
    hash_password,
    verify_password,
)


def test_role_grants():
    assert allowed(Role.OPERATOR, Permission.REVIEW)
    assert not allowed(Role.OPERATOR, Permission.RELEASE_HOLD)
    assert not allowed(Role.OPERATOR, Permission.SIGN_NCR)
    assert allowed(Role.ENGINEER, Permission.RELEASE_HOLD)
    assert not allowed(Role.ENGINEER, Permission.MANAGE_USERS)
    assert all(allowed(Role.ADMIN, p) for p in Permission)


def test_argon2_hash_verifies_only_the_password():
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "correct hors")
    assert not verify_password("not a hash", "correct horse")


def test_short_passwords_are_refused():
    with pytest.raises(ValueError, match="at least 10"):
        hash_password("short")
