"""Users and their sessions. Session tokens are random and stored only as their SHA-256, so a
copy of the database does not let anyone log in; each session has its own CSRF token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from inspection_backend.core.auth import Role, hash_password, verify_password
from inspection_backend.db import audit
from inspection_backend.db.audit import AuditEntry
from inspection_backend.db.tables import sessions, users


@dataclass(frozen=True)
class User:
    username: str
    role: Role


@dataclass(frozen=True)
class Session:
    token: str
    csrf_token: str
    user: User


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(conn: sa.Connection, username: str, password: str, role: Role, actor: str) -> None:
    """Create or replace (password, role) a user; audited."""
    if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValueError("user names: letters, digits, '-', '_', '.'")
    conn.execute(
        insert(users)
        .values(username=username, password_hash=hash_password(password), role=str(role))
        .on_conflict_do_update(
            index_elements=[users.c.username],
            set_={"password_hash": hash_password(password), "role": str(role), "active": True},
        )
    )
    audit.record(conn, AuditEntry(actor, "user.saved", "user", username, "", {"role": str(role)}))


def authenticate(conn: sa.Connection, username: str, password: str) -> User | None:
    row = conn.execute(sa.select(users).where(users.c.username == username, users.c.active)).first()
    if row is None or not verify_password(row.password_hash, password):
        return None
    return User(row.username, Role(row.role))


def open_session(conn: sa.Connection, user: User, hours: float) -> Session:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    conn.execute(
        sessions.insert().values(
            token_sha256=_digest(token),
            username=user.username,
            csrf_token=csrf,
            expires_at=datetime.now(UTC) + timedelta(hours=hours),
        )
    )
    audit.record(conn, AuditEntry(user.username, "session.opened", "user", user.username))
    return Session(token, csrf, user)


def session_for(conn: sa.Connection, token: str) -> Session | None:
    row = conn.execute(
        sa.select(sessions.c.csrf_token, users.c.username, users.c.role)
        .join(users, users.c.username == sessions.c.username)
        .where(
            sessions.c.token_sha256 == _digest(token),
            sessions.c.expires_at > sa.func.now(),
            users.c.active,
        )
    ).first()
    if row is None:
        return None
    return Session(token, row.csrf_token, User(row.username, Role(row.role)))


def close_session(conn: sa.Connection, token: str, username: str) -> None:
    conn.execute(sessions.delete().where(sessions.c.token_sha256 == _digest(token)))
    audit.record(conn, AuditEntry(username, "session.closed", "user", username))


def list_users(conn: sa.Connection) -> list[sa.Row]:
    return list(conn.execute(sa.select(users.c.username, users.c.role, users.c.active)))
