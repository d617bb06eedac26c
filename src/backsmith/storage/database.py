"""The serving connections of one database URL: a pool of driver connections per dialect.

Statements, results and the connection type live in `storage.statements`, the pool in
`storage.pool`, the drivers in `storage.postgres` and `storage.sqlite`; the unit of work
(`storage.unit`) is where a connection is taken and a transaction opened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from backsmith.storage.pool import Pool
from backsmith.storage.statements import Connection, DatabaseError, Result, Row, Statement
from backsmith.storage.unit import run_unit

__all__ = [
    "Connection",
    "Database",
    "DatabaseError",
    "Result",
    "Row",
    "Statement",
    "Waits",
]


@dataclass(frozen=True, slots=True)
class Waits:
    """How long work may wait on the database, in seconds: for a pooled connection, for a
    lock another transaction holds, and for one statement (0: no limit, PostgreSQL's)."""

    pool: float = 5.0
    lock: float = 2.0
    statement: float = 30.0

    @staticmethod
    def of(settings: Any) -> Waits:
        return Waits(
            settings.pool_timeout_ms / 1000,
            settings.lock_timeout_ms / 1000,
            settings.statement_timeout_ms / 1000,
        )


class Database:
    """The serving connections of one database URL."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.dialect = dialect
        self._cache: dict[Any, Statement] = {}
        # Called with each statement's SQL before it runs (tests count queries with it).
        self.listeners: list[Callable[[str], None]] = []

    @staticmethod
    def for_url(
        url: str,
        dialect: sa.Dialect,
        pool_size: int = 10,
        waits: Waits | None = None,
        pgbouncer: bool = False,
    ) -> Database:
        # The drivers' modules build on this one; they are imported once, at start-up.
        from backsmith.storage.postgres import PgDatabase
        from backsmith.storage.sqlite import SqliteDatabase

        waits = waits or Waits()
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            size = max(pool_size // 2, 1)
            return SqliteDatabase(dialect, parsed.database or "", size, waits)
        return PgDatabase(dialect, parsed, pool_size, waits, pgbouncer)

    begin = "BEGIN"
    retries = True  # a deadlocked or unserializable unit runs again (storage.unit)
    commit = "COMMIT"
    rollback = "ROLLBACK"
    pool: Pool
    # The class `connection` makes. Chosen once: with tracing on, start-up sets a subclass
    # whose `run_sql` makes a span (observe.tracing), so tracing off costs no statement.
    connection_type: type[Connection]

    async def run(self, work: Callable[[Connection], Awaitable[Any]], transaction: bool) -> Any:
        """`await work(conn)` on a pooled connection, in one transaction if asked.

        The driver's refusals come out as they are (`DatabaseError`); requests run their
        work through `storage.unit.run_unit`, which answers them as typed faults.
        """
        return await run_unit(self, work, transaction=transaction, typed_faults=False)

    def connection(self, raw: Any, transaction: bool) -> Connection:
        """The connection that runs statements on a pooled driver connection."""
        raise NotImplementedError

    def usable(self, raw: Any) -> bool:
        """Whether a driver connection can still take a ROLLBACK."""
        return True

    async def close(self) -> None:
        raise NotImplementedError
