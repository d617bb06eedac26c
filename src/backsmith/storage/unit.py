"""One unit of work: a pooled connection, a transaction where needed, hooks run before COMMIT.

This is the one place a request's work meets the database, and the one place the drivers'
refusals become the storage layer's typed faults (`storage.faults`). Work that is one
statement (an INSERT ... RETURNING) is atomic by itself and runs without BEGIN and COMMIT
around it, unless a before-commit hook must write in the same transaction as the change
(an idempotency record, an outbox row, an audit row).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from backsmith.storage.faults import StorageFault, Unavailable, ValueOutOfRange, fault_for
from backsmith.storage.statements import Connection, DatabaseError

if TYPE_CHECKING:
    from backsmith.storage.database import Database

T = TypeVar("T")
Work = Callable[[Connection], Awaitable[T]]
# Runs inside the transaction, after the work and right before COMMIT; raising rolls back.
Hook = Callable[[Connection], Awaitable[None]]

__all__ = ["Hook", "StorageFault", "UnitOfWork", "Work", "run_unit"]


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
    One function, not a wrapper around another: it is on every request's path.
    """
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
                    await conn.run_sql("ROLLBACK", [], False)
                raise
            await conn.run_sql("COMMIT", [], False)
            return result
        finally:
            pool.release(raw)
    except DatabaseError as error:
        if not typed_faults:
            raise
        raise fault_for(error) from error
    except OverflowError as error:  # a value the driver cannot bind, e.g. past 64 bits
        if not typed_faults:
            raise
        raise ValueOutOfRange("a value is out of range for its column") from error
    except (OSError, TimeoutError) as error:  # the driver could not reach the server
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
