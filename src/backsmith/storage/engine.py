"""SQLAlchemy engines, for the work before serving: inspecting and creating tables.

Requests run on `storage.database` instead.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from backsmith.storage.database import SQLITE_PRAGMAS

DEFAULT_DATABASE_URL = "sqlite:///backsmith.db"
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_DRIVERS["postgres"] = "postgresql+asyncpg"


def async_url(url: str) -> str:
    """`postgresql://...` -> `postgresql+asyncpg://...`; `sqlite:///x` -> `sqlite+aiosqlite:///x`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    return f"{_DRIVERS.get(scheme, scheme)}://{rest}"


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    """An engine for start-up work: SQLite in WAL mode, PostgreSQL with a small pool."""
    full = async_url(url)
    if full.startswith("sqlite"):
        engine = create_async_engine(full, connect_args={"timeout": 30})
        _tune_sqlite(engine)
        return engine
    return create_async_engine(full, pool_size=pool_size, max_overflow=pool_size)


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN")
