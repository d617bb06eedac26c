"""The one argument a handler receives: its inputs, its caller, its transaction, its rows.

    from backsmith.logic import Context, Problem

    async def pay_order(ctx: Context) -> dict:
        # move() locks the row and refuses paid -> paid: two payments never both pass
        return await ctx.rows("orders").move(ctx.path["id"], "paid")

A sync handler runs on a thread of its own and calls the same helpers without `await`;
each call then waits for the helper to run on the server's event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import sqlalchemy as sa

from backsmith.events.recorder import Emitter
from backsmith.logic.rows import Hook, ResourceAccess, Row, Rows
from backsmith.security.tokens import Principal
from backsmith.settings import Settings
from backsmith.storage.statements import Connection

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who called: None as the subject for an anonymous caller."""

    subject: str | None = None
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()

    @staticmethod
    def of(principal: Principal | None) -> Caller:
        if principal is None:
            return Caller()
        return Caller(principal.subject, principal.roles, principal.scopes)

    @property
    def anonymous(self) -> bool:
        return self.subject is None


class Bridge:
    """Runs the helpers' coroutines: awaited on the event loop, waited for from a thread."""

    __slots__ = ("loop", "thread")

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.thread = threading.get_ident()

    def call(self, work: Awaitable[T]) -> Any:
        """`work` itself for an async handler to await; its result for a sync one."""
        if threading.get_ident() == self.thread:
            return work
        return asyncio.run_coroutine_threadsafe(_awaited(work), self.loop).result()


async def _awaited(work: Awaitable[T]) -> T:
    return await work


class RowsHelper:
    """`Rows` whose calls a sync handler makes plainly and an async one awaits."""

    __slots__ = ("_bridge", "_rows")

    def __init__(self, rows: Rows, bridge: Bridge) -> None:
        self._rows = rows
        self._bridge = bridge

    def get(self, key: Any, *, lock: bool = False) -> Any:
        """The row with this key, or None; `lock`: locked until the transaction ends."""
        return self._bridge.call(self._rows.get(key, lock=lock))

    def list(self, *, limit: int = 100, **equal: Any) -> Any:
        """Up to `limit` rows whose properties equal the values given."""
        return self._bridge.call(self._rows.list(limit=limit, **equal))

    def create(self, values: dict[str, Any] | None = None, **named: Any) -> Any:
        """A new row, owned by the caller where the resource is owned."""
        return self._bridge.call(self._rows.create(values, **named))

    def update(self, key: Any, values: dict[str, Any] | None = None, **named: Any) -> Any:
        """The row changed (a 404 when there is none of the caller's)."""
        return self._bridge.call(self._rows.update(key, values, **named))

    def move(self, key: Any, state: str) -> Any:
        """The row moved to `state` as the resource's lifecycle rule allows (else a 409)."""
        return self._bridge.call(self._rows.move(key, state))

    def delete(self, key: Any) -> Any:
        """Whether there was a row of the caller's to delete."""
        return self._bridge.call(self._rows.delete(key))

    def link(self, values: dict[str, Any] | None = None, **named: Any) -> Any:
        """A join table's row added unless it is there; whether it was added."""
        return self._bridge.call(self._rows.link(values, **named))

    def unlink(self, values: dict[str, Any] | None = None, **named: Any) -> Any:
        """A join table's row removed; whether it was there."""
        return self._bridge.call(self._rows.unlink(values, **named))


@dataclass(slots=True)
class Context:
    """Everything a handler is given. Path, query and body are validated against the
    contract before the handler runs; `rows` and `sql` run in the operation's transaction,
    which commits when the handler returns and rolls back when it raises."""

    operation_id: str
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any
    caller: Caller
    settings: Settings
    _conn: Connection = field(repr=False)
    _principal: Principal | None = field(repr=False)
    _resources: Mapping[str, ResourceAccess] = field(repr=False)
    _bridge: Bridge = field(repr=False)
    # Hooks around CRUD writes only: the values about to be written (a before-hook may
    # change them), and the row (as stored before a change or a delete, as answered after).
    values: dict[str, Any] | None = None
    row: dict[str, Any] | None = None
    _events: Emitter | None = field(default=None, repr=False)

    def rows(self, resource: str) -> RowsHelper:
        """The helpers over one of the model's resources (by resource or table name)."""
        found = self._resources.get(resource)
        if found is None:
            known = ", ".join(sorted(self._resources))
            raise KeyError(f"no resource '{resource}' (the model has: {known})")
        rows = Rows(found, self._conn, self._principal, self._run_hook, self.operation_id)
        return RowsHelper(rows, self._bridge)

    def emit(self, event_type: str, data: Any = None, *, key: Any = None) -> Any:
        """Write the event `event_type` (e.g. `order.paid`) to the outbox, in the transaction:
        it is delivered once the transaction commits, and never if it rolls back. Its id,
        or None when no webhook or broker takes that type."""
        if self._events is None:
            raise RuntimeError("emit: this context publishes no events")
        work = self._events.emit(
            self._conn, event_type, data, key, self.caller.subject, self.operation_id
        )
        return self._bridge.call(work)

    async def _run_hook(
        self, hook: Hook, values: dict[str, Any] | None, row: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """A schema's hook around a helper's write, on this context with its values and row."""
        ctx = replace(self, values=values, row=row)
        await call(hook[0], hook[1], ctx)
        return ctx.values

    def sql(self, statement: str, **params: Any) -> Any:
        """Run SQL with `:name` parameters in the transaction; the rows, as dicts."""
        return self._bridge.call(_run_sql(self._conn, statement, params))


async def _run_sql(conn: Connection, statement: str, params: dict[str, Any]) -> list[Row]:
    text = sa.text(statement)
    missing = sorted(set(text.compile().binds) - set(params))
    if missing:  # else bound as NULL: a typo would read as "no row", not as a mistake
        raise KeyError(f"ctx.sql: no value given for :{', :'.join(missing)}")
    # Declared as returning columns, so a RETURNING (or a SELECT) comes back as rows on
    # every driver; a statement that returns none answers no rows.
    result = await conn.execute(text.columns(), params)
    return [dict(row) for row in result.all()]


HandlerFunction = Callable[[Context], Any]


async def call(function: HandlerFunction, is_async: bool, ctx: Context) -> Any:
    """The team's function on the context: awaited, or run on a thread of its own when sync.

    Not the shared pool: a sync handler waits on its thread for a helper, whose sync hook
    needs a thread too; with a pool, enough such requests at once would wait for ever.
    """
    if is_async:
        return await function(ctx)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if done.cancelled():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)

    def run() -> None:
        try:
            result = function(ctx)
        except BaseException as error:  # handed to the request, which answers it
            loop.call_soon_threadsafe(settle, None, error)
        else:
            loop.call_soon_threadsafe(settle, result, None)

    threading.Thread(target=run, name=f"backsmith {ctx.operation_id}", daemon=True).start()
    return await done
