"""The SQLAlchemy engine every part of the backend shares (psycopg 3 driver)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa


def make_engine(url: str, pool_size: int = 10) -> sa.Engine:
    """Engine with pre-ping (a restarted PostgreSQL leaves dead pooled connections behind)."""
    return sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=3600,
    )


def ns_to_datetime(stamp_ns: int) -> datetime:
    """Capture stamps travel as ns since the epoch; PostgreSQL keeps microseconds."""
    return datetime.fromtimestamp(stamp_ns // 1000 / 1e6, UTC).replace(
        microsecond=(stamp_ns // 1000) % 1_000_000
    )
