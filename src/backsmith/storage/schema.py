"""Make sure the database has the model's tables before serving."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from backsmith.errors import BacksmithError
from backsmith.settings import Settings

log = logging.getLogger("backsmith")


class StartupError(BacksmithError):
    """The database is not ready to serve the contract."""


async def missing_tables(engine: AsyncEngine, metadata: sa.MetaData) -> list[str]:
    async with engine.connect() as conn:
        existing = await conn.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
    return [name for name in metadata.tables if name not in existing]


async def prepare_database(engine: AsyncEngine, metadata: sa.MetaData, settings: Settings) -> None:
    """SQLite: create missing tables. Elsewhere: only with create_tables, else refuse."""
    try:
        missing = await missing_tables(engine, metadata)
    except Exception as error:
        raise StartupError(f"cannot reach the database: {error}") from error
    if not missing:
        return
    if engine.dialect.name == "sqlite" or settings.create_tables:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        log.info("created tables: %s", ", ".join(missing))
        return
    raise StartupError(
        f"the database lacks tables {', '.join(missing)}; "
        "start once with --create-tables (or BACKSMITH_CREATE_TABLES=1) to create them"
    )
