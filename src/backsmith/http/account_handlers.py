"""Handlers of the account operations: register, login, refresh, logout, me.

Each runs in one transaction: a registration that fails leaves no account, a refresh
that finds its token reused commits the revocation of its whole login and then answers
401.
"""

from __future__ import annotations

from typing import Any

from backsmith.errors import Conflict
from backsmith.http.access import missing, unknown_caller
from backsmith.http.accounts import client_address, reused, stale
from backsmith.http.handlers.common import respond_row
from backsmith.http.handlers.respond import dumps
from backsmith.http.handlers.work import run_work
from backsmith.http.pipeline import Handler
from backsmith.http.plans import OperationPlan
from backsmith.http.request import Request
from backsmith.http.response import Response, empty, json_response
from backsmith.http.writes import column_values
from backsmith.model.types import Kind
from backsmith.storage import sessions
from backsmith.storage.database import Database


def _answer(plan: OperationPlan, item: dict[str, Any]) -> Response:
    assert plan.operation.response is not None and plan.account is not None
    return json_response(plan.operation.response.status, dumps(plan.account.wrap(item)))


async def _shaped(plan: OperationPlan, conn: Any, row: Any) -> dict[str, Any]:
    if plan.shaper is None:
        return {}
    return await respond_row(plan, conn, row, str(row[plan.account.store.key]), False) or {}  # type: ignore[union-attr]


async def handle_register(plan: OperationPlan, database: Database, request: Request) -> Response:
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
        item = await run_work(database, work, transaction=True)
    except Conflict as conflict:
        conflict.detail = "An account with that name already exists."
        raise conflict from None
    return _answer(plan, item)


async def handle_login(plan: OperationPlan, database: Database, request: Request) -> Response:
    parsed = request.parsed
    account = plan.account
    assert account is not None
    body = account.unwrap(parsed.body)
    column, value, password = account.credentials(body, account.body_pointer)
    account.store.limiter.spend(str(value), client_address(request))

    async def work(conn: Any) -> dict[str, Any]:
        row = await account.store.check(conn, column, value, password)
        return {**await _shaped(plan, conn, row), **await account.tokens(conn, row, None)}

    return _answer(plan, await run_work(database, work, transaction=True))


async def handle_refresh(plan: OperationPlan, database: Database, request: Request) -> Response:
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

    item, was_reused = await run_work(database, work, transaction=True)
    if item is None:
        raise reused() if was_reused else stale()
    return _answer(plan, item)


async def handle_logout(plan: OperationPlan, database: Database, request: Request) -> Response:
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

    await run_work(database, work, transaction=True)
    status = plan.operation.response.status
    return empty(status if status in (200, 202, 204) else 204)


async def handle_me(plan: OperationPlan, database: Database, request: Request) -> Response:
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
            store.forget()
        item = await _shaped(plan, conn, row)
        if account.token_out is not None:  # the token the caller holds, as RealWorld does
            item[account.token_out] = _presented_token(request)
        return item

    try:
        item = await run_work(database, work, transaction=changing)
    except Conflict as conflict:
        conflict.detail = "An account with that name already exists."
        raise conflict from None
    if item is None:
        raise unknown_caller()
    return _answer(plan, item)


def _presented_token(request: Request) -> str | None:
    header = request.header(b"authorization") or ""
    _, _, token = header.strip().partition(" ")
    return token.strip() or None


ACCOUNT_HANDLERS: dict[Kind, Handler] = {
    Kind.REGISTER: handle_register,
    Kind.LOGIN: handle_login,
    Kind.REFRESH: handle_refresh,
    Kind.LOGOUT: handle_logout,
    Kind.ME: handle_me,
}
