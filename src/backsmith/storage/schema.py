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

    from backsmith.model.types import Model
    from backsmith.storage.migrations.folder import MigrationsFolder

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
    metadata: sa.MetaData,
    settings: Settings,
    engine: AsyncEngine | None = None,
    model: Model | None = None,
) -> str | None:
    """Make the database ready to serve `metadata`; returns its schema revision.

    With migrations (the model's folder has revision files): SQLite applies pending ones
    itself; other databases refuse to start while any is pending. Either way the database
    must then match the contract. Without migrations: SQLite creates missing tables, other
    databases only with create_tables, and existing tables must match the contract.

    `engine`: an engine of the caller's to use (it stays open); otherwise one is made for
    this and disposed of. The revision is None when the database records none.
    """
    if model is not None:
        from backsmith.storage.migrations.folder import migrations_folder

        folder = migrations_folder(model, settings)
        if folder.exists:
            return await _prepare_migrated(settings, folder, model)
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
        engine = engine if engine is not None else make_engine(url, pgbouncer=settings.pgbouncer)
        create = engine.dialect.name == "sqlite" or settings.create_tables
        try:
            try:
                async with engine.begin() as conn:
                    created = await conn.run_sync(_prepare, metadata, create)
                    if not created and engine.dialect.name != "sqlite":
                        found = await conn.run_sync(_differences, metadata)
                        _refuse_differences(found)
            except StartupError:
                raise
            except Exception as error:
                raise StartupError(f"cannot reach the database: {error}{_hint(error)}") from error
        finally:
            if owned:
                await engine.dispose()
    if created:
        log.info("created tables: %s", ", ".join(created))
    return None


def _differences(conn: sa.Connection, metadata: sa.MetaData) -> list[str]:
    from backsmith.storage.migrations.drift import differences

    return differences(conn, metadata)


def _refuse_differences(found: list[str]) -> None:
    if not found:
        return
    shown = "\n".join(f"  - {item}" for item in found[:_SHOWN])
    more = f"\n  ... and {len(found) - _SHOWN} more" if len(found) > _SHOWN else ""
    raise StartupError(
        f"the database differs from the contract:\n{shown}{more}\n"
        "'backsmith migrate check' lists every difference; 'backsmith migrate plan' "
        "writes the migration that makes them agree"
    )


_SHOWN = 10


async def _prepare_migrated(
    settings: Settings, folder: MigrationsFolder, model: Model
) -> str | None:
    from backsmith.storage.migrations import project

    url = settings.database_url
    try:
        status = await project.status(url, folder, model)
        # An empty database gets every migration; one with tables of its own must match.
        fresh = (
            not status.managed
            and bool(status.differences)
            and all(
                d.startswith("table ") and d.endswith(" is missing") for d in status.differences
            )
        )
        if status.pending and (status.managed or fresh):
            if not is_sqlite(url):
                names = ", ".join(f"{r.id} ({r.message})" for r in status.pending)
                raise StartupError(
                    f"{len(status.pending)} migration(s) pending: {names}; "
                    f"run 'backsmith migrate up' first"
                )
            outcome = await project.upgrade(url, folder)
            log.info("applied migrations: %s", "; ".join(outcome.steps))
            status = await project.status(url, folder, model)
    except StartupError:
        raise
    except BacksmithError as error:
        raise StartupError(str(error)) from error
    except Exception as error:
        raise StartupError(f"cannot reach the database: {error}") from error
    _refuse_differences(status.differences)
    if not status.managed:
        log.info(
            "the database matches the contract but records no migration; "
            "'backsmith migrate adopt' records it as revision %s",
            status.head,
        )
    return status.revision


def _hint(error: Exception) -> str:
    """What to do about a refusal whose cause is not in its text."""
    text = str(error)
    if "prepared statement" in text and ("already exists" in text or "does not exist" in text):
        return (
            "\n(a pooler in transaction mode, such as PgBouncer, is between backsmith and "
            "PostgreSQL: set BACKSMITH_PGBOUNCER=true)"
        )
    return ""
