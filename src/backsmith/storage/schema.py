"""Make sure the database has the model's tables before serving."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import sqlalchemy as sa

from backsmith.errors import BacksmithError
from backsmith.settings import Settings
from backsmith.storage.engine import is_sqlite, make_engine, sqlite_engine

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("backsmith")


class StartupError(BacksmithError):
    """The database is not ready to serve the contract."""


def _missing(conn: sa.Connection, metadata: sa.MetaData) -> list[str]:
    existing = set(sa.inspect(conn).get_table_names())
    return [name for name in metadata.tables if name not in existing]


def _prepare(conn: sa.Connection, metadata: sa.MetaData, create: bool) -> list[str]:
    """The tables created; raises StartupError when some are missing and may not be."""
    missing = _missing(conn, metadata)
    if missing and not create:
        raise StartupError(
            f"the database lacks tables {', '.join(missing)}; "
            "start once with --create-tables (or BACKSMITH_CREATE_TABLES=1) to create them"
        )
    if missing:
        try:
            metadata.create_all(conn)
        except sa.exc.DBAPIError as error:
            raise StartupError(f"cannot create tables {', '.join(missing)}: {error}") from error
    return missing


async def prepare_database(
    metadata: sa.MetaData, settings: Settings, engine: AsyncEngine | None = None
) -> None:
    """SQLite: create missing tables. Elsewhere: only with create_tables, else refuse.

    `engine`: an engine of the caller's to use (it stays open); otherwise one is made for
    this and disposed of.
    """
    url = settings.database_url
    if engine is None and is_sqlite(url):
        # A few milliseconds of file work before anything is served: run it in place.
        sync = sqlite_engine(url)
        try:
            with sync.begin() as conn:
                created = _prepare(conn, metadata, create=True)
        except sa.exc.DBAPIError as error:
            raise StartupError(f"cannot reach the database: {error}") from error
        finally:
            sync.dispose()
    else:
        owned = engine is None
        engine = engine if engine is not None else make_engine(url)
        create = engine.dialect.name == "sqlite" or settings.create_tables
        try:
            try:
                async with engine.begin() as conn:
                    created = await conn.run_sync(_prepare, metadata, create)
            except StartupError:
                raise
            except Exception as error:
                raise StartupError(f"cannot reach the database: {error}") from error
        finally:
            if owned:
                await engine.dispose()
    if created:
        log.info("created tables: %s", ", ".join(created))
