"""SQLAlchemy engines and dialects, for the work before serving: inspecting and creating tables.

Requests run on `storage.database` instead. SQLite start-up work runs on a plain (sync)
engine over the standard library's driver, so serving SQLite never imports SQLAlchemy's
asyncio extension (and the ORM it brings), about a sixth of a start.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from backsmith.storage.sqlite import SQLITE_PRAGMAS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

DEFAULT_DATABASE_URL = "sqlite:///backsmith.db"
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_DRIVERS["postgres"] = "postgresql+asyncpg"


def async_url(url: str) -> str:
    """`postgresql://...` -> `postgresql+asyncpg://...`; `sqlite:///x` -> `sqlite+aiosqlite:///x`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    return f"{_DRIVERS.get(scheme, scheme)}://{rest}"


def dialect_name(url: str) -> str:
    """`sqlite`, `postgresql` or `mysql` (MariaDB), whatever driver the URL names."""
    scheme = url.partition("://")[0].partition("+")[0]
    return {"postgres": "postgresql", "mariadb": "mysql"}.get(scheme, scheme)


def is_sqlite(url: str) -> bool:
    return dialect_name(url) == "sqlite"


def dialect_for(url: str) -> sa.Dialect:
    """The dialect statements are compiled for, made without opening a connection."""
    full = "sqlite://" if is_sqlite(url) else async_url(url)
    dialect_class = make_url(full).get_dialect()
    made: sa.Dialect = dialect_class(dbapi=dialect_class.import_dbapi())  # type: ignore[call-arg]
    return made


def make_engine(url: str, pool_size: int = 10, pgbouncer: bool = False) -> AsyncEngine:
    """An async engine: SQLite in WAL mode, PostgreSQL with a small pool.

    Behind PgBouncer in transaction pooling, two transactions of one client connection may
    run on two server connections: no statement is kept prepared, and each one prepared is
    named afresh, so none meets another client's of the same name.
    """
    from sqlalchemy.ext.asyncio import create_async_engine

    full = async_url(url)
    if full.startswith("sqlite"):
        engine = create_async_engine(full, connect_args={"timeout": 30})
        _tune_sqlite(engine.sync_engine)
        return engine
    if pgbouncer:
        pooled = make_url(full).update_query_dict({"prepared_statement_cache_size": "0"})
        return create_async_engine(
            pooled,
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args={
                "statement_cache_size": 0,
                "prepared_statement_name_func": lambda: f"__backsmith_{uuid.uuid4().hex}__",
            },
        )
    return create_async_engine(full, pool_size=pool_size, max_overflow=pool_size)


def sqlite_engine(url: str, pragmas: Sequence[str] = SQLITE_PRAGMAS) -> sa.Engine:
    """A plain engine on the standard library's sqlite3, with the serving pragmas."""
    rest = url.partition("://")[2]
    engine = sa.create_engine(f"sqlite://{rest}", connect_args={"timeout": 30})
    _tune_sqlite(engine, pragmas)
    return engine


def sync_engine(url: str, foreign_keys: bool = False) -> sa.Engine:
    """A plain engine for migrations and seeds on SQLite or MariaDB (PostgreSQL runs async).

    For migrations SQLite's foreign keys stay off, as SQLite asks while tables are rebuilt:
    a rebuild drops and re-creates a table, which would cascade to the rows referring to it.
    """
    name = dialect_name(url)
    if name == "sqlite":
        if foreign_keys:
            return sqlite_engine(url)
        return sqlite_engine(url, [p for p in SQLITE_PRAGMAS if not p.startswith("foreign_keys")])
    if name == "mysql":
        rest = url.partition("://")[2]
        return sa.create_engine(f"mysql+pymysql://{rest}", pool_pre_ping=True)
    raise ValueError(f"no synchronous driver for {url.partition('://')[0]}")


def _tune_sqlite(engine: sa.Engine, pragmas: Sequence[str] = SQLITE_PRAGMAS) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see on_begin),
        # so creating several tables is one transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN")
