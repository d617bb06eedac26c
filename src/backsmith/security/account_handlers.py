"""Handlers of the account operations: register, login, refresh, logout, me.

Each runs in one transaction: a registration that fails leaves no account, a refresh
that finds its token reused commits the revocation of its whole login and then answers
401. A handler sees its operation's plan through `AccountOperation`, the few facets it
reads, so this package never imports the plan class.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from backsmith.errors import Conflict
from backsmith.http.faults import run_answering
from backsmith.http.request import Request
from backsmith.http.response import Response, empty, json_response
from backsmith.http.shaping import Shaper, dumps
from backsmith.http.writes import column_values
from backsmith.model.types import Field, Kind, Operation
from backsmith.security.access import missing, unknown_caller
from backsmith.security.accounts import AccountPlan, client_address, reused, stale
from backsmith.storage import sessions
from backsmith.storage.database import Database
from backsmith.storage.values import Stamps


class ParsedBody(Protocol):
    """What account handlers read of a parsed request: its body."""

    @property
    def body(self) -> Any: ...


class AccountOperation(Protocol):
    """The facets of an operation's plan that the account handlers read."""

    @property
    def operation(self) -> Operation: ...
    @property
    def account(self) -> AccountPlan | None: ...
    @property
    def shaper(self) -> Shaper | None: ...
    @property
    def stamps(self) -> Stamps | None: ...
    @property
    def writable(self) -> Mapping[str, Field]: ...
    @property
    def validation_status(self) -> int: ...


AccountHandler = Callable[[AccountOperation, Database, Request], Awaitable[Response]]


def _answer(plan: AccountOperation, account: AccountPlan, item: dict[str, Any]) -> Response:
    response = plan.operation.response
    assert response is not None
    return json_response(response.status, dumps(account.wrap(item)))


async def _shaped(plan: AccountOperation, conn: Any, row: Any) -> dict[str, Any]:
    """The account's row as the operation answers it (written just now, so read once)."""
    shaper, account = plan.shaper, plan.account
    if shaper is None or account is None or row is None:
        return {}
    if shaper.flat:
        return shaper.one(row)
    return await shaper.reload(conn, row, str(row[account.store.key]))


async def handle_register(plan: AccountOperation, database: Database, request: Request) -> Response:
    parsed = request.parsed
    account = plan.account
    assert account is not None and plan.stamps is not None
    body = dict(account.unwrap(parsed.body))
    store = account.store
    password = account.new_password(body, account.body_pointer, required=True)
    values = column_values(plan.writable, body, True, plan.validation_status, account.body_pointer)
    values[store.accounts.password_column] = await store.passwords.hash(str(password))
    values = {**plan.stamps.values(creating=True), **values}

    async def work(conn: Any) -> dict[str, Any]:
        row = await store.queries.insert(conn, values)
        return {**await _shaped(plan, conn, row), **await account.tokens(conn, row, None)}

    try:
        item = await run_answering(database, work, transaction=True)
    except Conflict as conflict:
        raise _taken(plan, account, conflict) from None
    return _answer(plan, account, item)


async def handle_login(plan: AccountOperation, database: Database, request: Request) -> Response:
    parsed = request.parsed
    account = plan.account
    assert account is not None
    body = account.unwrap(parsed.body)
    column, value, password = account.credentials(body, account.body_pointer)
    await account.store.limiter.spend(str(value), client_address(request))

    async def work(conn: Any) -> dict[str, Any]:
        row = await account.store.check(conn, column, value, password)
        return {**await _shaped(plan, conn, row), **await account.tokens(conn, row, None)}

    return _answer(plan, account, await run_answering(database, work, transaction=True))


async def handle_refresh(plan: AccountOperation, database: Database, request: Request) -> Response:
    parsed = request.parsed
    account = plan.account
    assert account is not None
    body = account.unwrap(parsed.body)
    presented = body.get(account.refresh_in) if account.refresh_in else None

    async def work(conn: Any) -> tuple[dict[str, Any] | None, bool]:
        row, family, was_reused = await account.refreshed(conn, presented)
        if row is None:
            return None, was_reused  # committed: a reuse revokes the family for good
        return {**await _shaped(plan, conn, row), **await account.tokens(conn, row, family)}, False

    item, was_reused = await run_answering(database, work, transaction=True)
    if item is None:
        raise reused() if was_reused else stale()
    return _answer(plan, account, item)


async def handle_logout(plan: AccountOperation, database: Database, request: Request) -> Response:
    parsed = request.parsed
    account = plan.account
    assert account is not None and plan.operation.response is not None
    body = account.unwrap(parsed.body) if parsed.body is not None else {}
    presented = body.get(account.refresh_in) if account.refresh_in else None
    principal = request.principal
    if presented is None and principal is None:
        raise missing()

    async def work(conn: Any) -> None:
        await account.logout(conn, presented, principal)

    await run_answering(database, work, transaction=True)
    status = plan.operation.response.status
    return empty(status if status in (200, 202, 204) else 204)


async def handle_me(plan: AccountOperation, database: Database, request: Request) -> Response:
    account = plan.account
    assert account is not None
    store = account.store
    principal = request.principal
    if principal is None:
        raise missing()
    changing = plan.operation.method in ("PUT", "PATCH")
    values: dict[str, Any] = {}
    if changing:
        parsed = request.parsed
        body = dict(account.unwrap(parsed.body))
        password = account.new_password(body, account.body_pointer, required=False)
        replace = plan.operation.method == "PUT"
        values = column_values(
            plan.writable, body, replace, plan.validation_status, account.body_pointer
        )
        values.pop(store.key, None)
        if password is not None:
            values[store.accounts.password_column] = await store.passwords.hash(password)
        if plan.stamps is not None:
            values.update(plan.stamps.values(creating=False))

    async def work(conn: Any) -> dict[str, Any] | None:
        row = await store.by_subject(conn, principal.subject)
        if row is None:
            return None
        if values:
            row = await store.queries.update(conn, {store.key: row[store.key]}, values)
        if store.accounts.password_column in values:  # a new password ends other logins
            await sessions.revoke_subject(conn, store.sessions, str(row[store.key]))
            await store.forget()
        item = await _shaped(plan, conn, row)
        if account.token_out is not None:  # the token the caller holds, as RealWorld does
            item[account.token_out] = _presented_token(request)
        return item

    try:
        item = await run_answering(database, work, transaction=changing)
    except Conflict as conflict:
        raise _taken(plan, account, conflict) from None
    if item is None:
        raise unknown_caller()
    return _answer(plan, account, item)


def _taken(plan: AccountOperation, account: AccountPlan, conflict: Conflict) -> Conflict:
    """A duplicate account, pointed at the body property whose column is taken."""
    conflict.detail = "An account with that name already exists."
    for name, field in plan.writable.items():
        if conflict.column and field.column == conflict.column:
            pointer = f"{account.body_pointer}/{name}"
            conflict.errors = [{"detail": conflict.detail, "pointer": pointer}]
    return conflict


def _presented_token(request: Request) -> str | None:
    header = request.header(b"authorization") or ""
    _, _, token = header.strip().partition(" ")
    return token.strip() or None


ACCOUNT_HANDLERS: dict[Kind, AccountHandler] = {
    Kind.REGISTER: handle_register,
    Kind.LOGIN: handle_login,
    Kind.REFRESH: handle_refresh,
    Kind.LOGOUT: handle_logout,
    Kind.ME: handle_me,
}
