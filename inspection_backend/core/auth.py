"""Users, roles and what each role may do; password hashing (argon2id).

operator: sees cases and reviews units; engineer: also releases line holds, signs NCRs and
approves threshold proposals; admin: also manages users. The page checks permissions through
`allowed`, so the rules live here and not in the routes.
"""

from __future__ import annotations

from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_CHARS = 10


class Role(StrEnum):
    OPERATOR = "operator"
    ENGINEER = "engineer"
    ADMIN = "admin"


class Permission(StrEnum):
    VIEW = "view"
    REVIEW = "review"
    RELEASE_HOLD = "release_hold"
    SIGN_NCR = "sign_ncr"
    APPROVE_THRESHOLD = "approve_threshold"
    MANAGE_USERS = "manage_users"


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset({Permission.VIEW, Permission.REVIEW}),
    Role.ENGINEER: frozenset(
        {
            Permission.VIEW,
            Permission.REVIEW,
            Permission.RELEASE_HOLD,
            Permission.SIGN_NCR,
            Permission.APPROVE_THRESHOLD,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in _GRANTS[role]


_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"password must have at least {MIN_PASSWORD_CHARS} characters")
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
