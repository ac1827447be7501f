"""Users and sessions: argon2 hashes, tokens stored only as hashes, expiry, one CSRF token each."""

from __future__ import annotations

import sqlalchemy as sa

from inspection_backend.core.auth import Role
from inspection_backend.db import users_store


def test_authentication_and_sessions(engine):
    with engine.begin() as conn:
        users_store.add_user(conn, "erin", "engineer-pass-1", Role.ENGINEER, "admin")
        assert users_store.authenticate(conn, "erin", "wrong-password") is None
        user = users_store.authenticate(conn, "erin", "engineer-pass-1")
        session = users_store.open_session(conn, user, hours=1)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_sha256, csrf_token FROM sessions")).one()
        found = users_store.session_for(conn, session.token)
    assert session.token not in stored.token_sha256
    assert found.user == user and found.csrf_token == session.csrf_token == stored.csrf_token
    with engine.begin() as conn:
        users_store.close_session(conn, session.token, "erin")
        assert users_store.session_for(conn, session.token) is None


def test_expired_sessions_and_role_changes(engine):
    with engine.begin() as conn:
        users_store.add_user(conn, "olga", "operator-pass-1", Role.OPERATOR, "admin")
        user = users_store.authenticate(conn, "olga", "operator-pass-1")
        old = users_store.open_session(conn, user, hours=-1)
        users_store.add_user(conn, "olga", "operator-pass-2", Role.ENGINEER, "admin")
    with engine.connect() as conn:
        assert users_store.session_for(conn, old.token) is None
        assert users_store.authenticate(conn, "olga", "operator-pass-1") is None
        assert users_store.authenticate(conn, "olga", "operator-pass-2").role is Role.ENGINEER
