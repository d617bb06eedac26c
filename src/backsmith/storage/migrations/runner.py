"""Apply and roll back revisions with Alembic, one transaction per revision, under a lock.

Alembic runs on a synchronous connection: SQLite on the standard library's sqlite3,
MariaDB on PyMySQL, PostgreSQL on asyncpg through SQLAlchemy's `run_sync`. While a run
holds the lock (an advisory lock on PostgreSQL, GET_LOCK on MariaDB, a lock file beside
an SQLite database) a second run waits for it, then finds nothing left to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from backsmith.errors import BacksmithError
from backsmith.storage.engine import dialect_name, sync_engine
from backsmith.storage.migrations.folder import MigrationsFolder

T = TypeVar("T")
VERSION_TABLE = "alembic_version"
# Any number both PostgreSQL and MariaDB take as a lock name; it only has to be ours.
_LOCK_KEY = 0x6261636B736D6974  # "backsmit"
_LOCK_WAIT = 600  # seconds a second run waits before giving up


class MigrationFailed(BacksmithError):
    """A revision failed; its transaction was rolled back."""


class Unreachable(MigrationFailed):
    """The database could not be opened or reached."""


@dataclass(slots=True)
class Outcome:
    """The revisions a run applied or rolled back, in order."""

    steps: list[str] = field(default_factory=list)
    revision: str | None = None


async def on_connection(
    url: str, work: Callable[[sa.Connection], T], lock: bool = False, foreign_keys: bool = False
) -> T:
    """`work(connection)` on a synchronous connection to `url`, holding the lock if asked.

    `foreign_keys`: SQLite checks references (off while migrations rebuild tables).
    """

    def guarded(conn: sa.Connection) -> T:
        try:
            return work(conn)
        except sa.exc.DBAPIError as error:  # after connecting: a refusal, not an outage
            raise MigrationFailed(f"the database refused: {error.orig}") from None

    try:
        if dialect_name(url) == "postgresql":
            return await _on_postgres(url, guarded, lock)
        return await asyncio.to_thread(_on_sync, url, guarded, lock, foreign_keys)
    except (OSError, TimeoutError, sa.exc.DBAPIError) as error:
        cause = getattr(error, "orig", None) or error
        raise Unreachable(f"cannot reach the database: {cause}") from None


def _on_sync(url: str, work: Callable[[sa.Connection], T], lock: bool, foreign_keys: bool) -> T:
    engine = sync_engine(url, foreign_keys)
    try:
        with contextlib.ExitStack() as stack:
            if lock:
                stack.enter_context(_held(url, engine))
            with engine.connect() as conn:
                return work(conn)
    finally:
        engine.dispose()


@contextlib.contextmanager
def _held(url: str, engine: sa.Engine) -> Iterator[None]:
    if dialect_name(url) == "sqlite":
        database = make_url(url).database or ""
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrate-lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
            yield
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # MariaDB's named locks are the server's, not a database's (PostgreSQL's advisory
        # locks are the database's): the name carries the database, so migrations of two
        # databases on one server do not wait for each other. At most 64 characters.
        name = f"backsmith-migrate:{make_url(url).database or ''}"[:64]
        got = conn.exec_driver_sql("SELECT GET_LOCK(%s, %s)", (name, _LOCK_WAIT)).scalar()
        if got != 1:
            raise MigrationFailed("another migration run holds the lock; try again later")
        try:
            yield
        finally:
            conn.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (name,))


async def _on_postgres(url: str, work: Callable[[sa.Connection], T], lock: bool) -> T:
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from backsmith.storage.engine import async_url

    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if lock:
                holder = await stack.enter_async_context(engine.connect())
                holder = await holder.execution_options(isolation_level="AUTOCOMMIT")
                await holder.exec_driver_sql(f"SELECT pg_advisory_lock({_LOCK_KEY})")
            async with engine.connect() as conn:
                return await conn.run_sync(work)
    finally:
        await engine.dispose()


# ----------------------------------------------------------------- revisions
def current(conn: sa.Connection) -> str | None:
    """The revision the database is at; None when it has none (new, or unmanaged)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def recorded(conn: sa.Connection) -> str | None:
    """The revision in the version table, read with plain SQL (no Alembic import)."""
    rows = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    conn.commit()
    if len(rows) > 1:
        raise MigrationFailed(f"the database records several heads ({', '.join(rows)})")
    return rows[0] if rows else None


def managed(conn: sa.Connection) -> bool:
    """Whether the database records its revision (Alembic's version table exists)."""
    return VERSION_TABLE in sa.inspect(conn).get_table_names()


def migrate(conn: sa.Connection, folder: MigrationsFolder, target: str, up: bool) -> Outcome:
    """Upgrade (`up`) or downgrade to `target`, each revision in its own transaction."""
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.util import CommandError

    script = folder.script
    if not up and current(conn) is None:
        conn.commit()
        return Outcome()  # nothing applied, nothing to roll back
    conn.commit()
    config = Config()
    config.set_main_option("script_location", str(folder.path))
    outcome = Outcome()

    def revisions(revision: Any, _context: Any) -> Any:
        if up:
            return script._upgrade_revs(target, revision)
        return script._downgrade_revs(target, revision)

    def applied(ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        message = step.up_revision.doc if step.up_revision is not None else ""
        word = "applied" if step.is_upgrade else "rolled back"
        outcome.steps.append(f"{word} {step.up_revision_id} {message}".rstrip())

    try:
        with EnvironmentContext(config, script, fn=revisions, destination_rev=target) as env:
            env.configure(
                connection=conn,
                transaction_per_migration=True,
                # SQLite's DDL is transactional when the driver leaves BEGIN to SQLAlchemy,
                # as sync_engine arranges; MariaDB's is not.
                transactional_ddl=conn.dialect.name in ("sqlite", "postgresql"),
                render_as_batch=True,
                on_version_apply=applied,
            )
            with env.begin_transaction():
                env.run_migrations()
    except CommandError as error:
        raise MigrationFailed(str(error)) from error
    except BacksmithError:
        raise
    except Exception as error:  # the database's refusal, or a revision file's own fault
        done = "; ".join(outcome.steps) or "nothing"
        cause = getattr(error, "orig", None) or error
        if conn.dialect.name == "mysql":
            what = (
                "a migration failed; MariaDB commits each schema change at once, so its "
                "steps before the failure stay applied ('backsmith migrate status' shows them)"
            )
        else:
            what = "a migration failed and was rolled back"
        raise MigrationFailed(f"{what} (done before it: {done}): {cause}") from error
    outcome.revision = current(conn)
    conn.commit()
    return outcome


def stamp(conn: sa.Connection, folder: MigrationsFolder, revision: str) -> None:
    """Record `revision` as applied without running anything (adopting a database)."""
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(conn)
    context.stamp(folder.script, revision)
    conn.commit()
