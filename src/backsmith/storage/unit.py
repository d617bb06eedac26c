"""One unit of work: a pooled connection, a transaction where needed, hooks run before COMMIT.

This is the one place a request's work meets the database, and the one place the drivers'
refusals become the storage layer's typed faults (`storage.faults`). Work that is one
statement (an INSERT ... RETURNING) is atomic by itself and runs without BEGIN and COMMIT
around it, unless a before-commit hook must write in the same transaction as the change
(an idempotency record, an outbox row, an audit row).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from backsmith.storage.faults import StorageFault, Unavailable, ValueOutOfRange, fault_for
from backsmith.storage.statements import Connection, DatabaseError

if TYPE_CHECKING:
    from backsmith.storage.database import Database

T = TypeVar("T")
# serialization_failure and deadlock_detected: the database undid this unit so another
# could go on; the same unit run again usually passes.
RETRIED = frozenset({"40001", "40P01"})
RETRIES = 4
Work = Callable[[Connection], Awaitable[T]]
# Runs inside the transaction, after the work and right before COMMIT; raising rolls back.
Hook = Callable[[Connection], Awaitable[None]]

__all__ = ["HeldTransaction", "Hook", "StorageFault", "UnitOfWork", "Work", "run_unit"]


async def run_unit(
    database: Database,
    work: Work[T],
    *,
    transaction: bool = False,
    hooks: Sequence[Hook] = (),
    typed_faults: bool = True,
) -> T:
    """`await work(conn)` as one unit; a database refusal is raised as a `StorageFault`.

    `transaction`: the work runs several statements that must stand or fall together.
    `hooks`: run in order on the same connection before COMMIT; with any, the work runs
    in a transaction whatever `transaction` says. `typed_faults=False` lets the driver's
    refusals pass as they are (`DatabaseError`), for callers that read them themselves.
    A serialization failure or a deadlock (the database chose this unit to undo) runs the
    whole unit again, after a short backoff with jitter, up to `RETRIES` times; then it is
    answered as unavailable. One function, not a wrapper around another: it is on every
    request's path.
    """
    attempt = 0
    while True:
        try:
            pool = database.pool
            raw = await pool.acquire()
            try:
                conn = database.connection(raw, transaction or bool(hooks))
                if not transaction and not hooks:
                    return await work(conn)
                await conn.run_sql(database.begin, [], False)
                try:
                    result = await work(conn)
                    for hook in hooks:
                        await hook(conn)
                except BaseException:
                    if database.usable(raw):
                        await conn.run_sql(database.rollback, [], False)
                    raise
                await conn.run_sql(database.commit, [], False)
                return result
            finally:
                pool.release(raw)
        except DatabaseError as error:
            if error.sqlstate in RETRIED and database.retries and attempt < RETRIES:
                attempt += 1
                await asyncio.sleep(random.uniform(0.5, 1.0) * 0.01 * 2**attempt)
                continue
            if not typed_faults:
                raise
            if error.sqlstate in RETRIED:
                raise Unavailable(f"{error.text} (tried {attempt + 1} times)") from error
            raise fault_for(error) from error
        except OverflowError as error:  # a value the driver cannot bind, e.g. past 64 bits
            if not typed_faults:
                raise
            raise ValueOutOfRange("a value is out of range for its column") from error
        except (OSError, TimeoutError) as error:  # the server unreachable; no connection free
            if not typed_faults:
                raise
            raise Unavailable(str(error)) from error


class UnitOfWork:
    """One request's unit on one database: steps register hooks, then the work runs once."""

    __slots__ = ("database", "hooks")

    def __init__(self, database: Database) -> None:
        self.database = database
        self.hooks: list[Hook] = []

    def before_commit(self, hook: Hook) -> None:
        """Run `await hook(conn)` in the work's transaction, right before it commits."""
        self.hooks.append(hook)

    async def run(self, work: Work[T], *, transaction: bool = False) -> T:
        """The work with the hooks registered so far; refusals raised as `StorageFault`."""
        return await run_unit(self.database, work, transaction=transaction, hooks=self.hooks)


class HeldTransaction:
    """A transaction a step holds open around a request's whole work.

    The step opens it, hands `units` to the work in place of the database (each of the
    work's units then runs as a savepoint inside it, on the same connection), writes its
    own record with `connection`, and commits or rolls back everything at once. The
    idempotency step completes its record this way, in the transaction of the write.
    """

    __slots__ = ("connection", "database", "raw", "units")

    def __init__(self, database: Database) -> None:
        self.database = database
        self.raw: Any = None
        self.connection: Connection | None = None
        self.units: Any = None

    async def open(self) -> Connection:
        """BEGIN on a pooled connection; refusals raised as `StorageFault`."""

        database = self.database
        try:
            self.raw = await database.pool.acquire()
            conn = self.connection = database.connection(self.raw, True)
            await conn.run_sql(database.begin, [], False)
        except BaseException as error:
            self.release()
            _raise_typed(error)
        self.units = _Savepoints(database, self.raw)
        return conn

    async def commit(self) -> None:
        await self._end(self.database.commit)

    async def rollback(self) -> None:
        """Undo everything; a connection that is gone has undone it already."""
        if self.raw is not None and self.connection is not None:
            with contextlib.suppress(DatabaseError, OSError):
                await self.connection.run_sql(self.database.rollback, [], False)
        self.release()

    async def _end(self, sql: str) -> None:
        assert self.connection is not None
        try:
            await self.connection.run_sql(sql, [], False)
        except BaseException as error:
            await self.rollback()
            _raise_typed(error)
        self.release()

    def release(self) -> None:
        if self.raw is not None:
            self.database.pool.release(self.raw)
            self.raw = None


class _Savepoints:
    """The database a held transaction's work is handed: its units are savepoints."""

    retries = False  # a deadlock undoes the whole held transaction: its owner answers it
    begin = "SAVEPOINT backsmith_unit"
    commit = "RELEASE SAVEPOINT backsmith_unit"
    rollback = "ROLLBACK TO SAVEPOINT backsmith_unit"

    def __init__(self, database: Database, raw: Any) -> None:
        self.database = database
        self.dialect = database.dialect
        self.pool = _Lent(raw)

    def connection(self, raw: Any, transaction: bool) -> Connection:
        # Inside the transaction: every read goes to this connection, which sees its writes.
        return self.database.connection(raw, True)

    def usable(self, raw: Any) -> bool:
        return True  # the held transaction's owner decides what becomes of the connection


class _Lent:
    """A pool of the one connection a held transaction lends its work."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    async def acquire(self) -> Any:
        return self.raw

    def release(self, raw: Any) -> None:
        """The connection goes back to its pool when the held transaction ends."""


def _raise_typed(error: BaseException) -> NoReturn:
    """Raise a driver's refusal as a `StorageFault`, anything else as it is."""
    if isinstance(error, DatabaseError):
        raise fault_for(error) from error
    if isinstance(error, OSError | TimeoutError):
        raise Unavailable(str(error)) from error
    raise error
