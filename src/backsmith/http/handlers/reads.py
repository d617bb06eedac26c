"""The read handler: one row by its address, kept to the caller's rows when owned."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from backsmith.http.faults import run_answering
from backsmith.http.handlers.common import across, bound, scope_of, subject_of
from backsmith.http.handlers.respond import item_response, wrap
from backsmith.http.kind_plans import RowsPlan
from backsmith.http.request import Request
from backsmith.http.response import Response
from backsmith.http.shaping import dumps
from backsmith.storage.database import Database

Item = dict[str, Any]


def reader(plan: RowsPlan, request: Request) -> Callable[[Any], Awaitable[Item | None]]:
    """The work that reads the row the request's path names, shaped as `plan` answers it."""
    parsed = request.parsed
    subject = subject_of(request)
    queries, shaper = plan.queries, plan.shaper
    equals = scope_of(plan, parsed)
    where: list[Any] = []
    params = bound(plan, subject)
    owner = plan.owners.rows
    if owner is not None:
        owner.narrow(request.principal, equals, where, params)
    where.extend(across(plan, parsed, subject))

    async def work(conn: Any) -> Item | None:
        row = await queries.fetch_one(
            conn, equals, extras=shaper.extras(subject), where=where, params=params, answered=True
        )
        return None if row is None else (await shaper.shape(conn, [row], subject))[0]

    return work


async def handle_read(plan: RowsPlan, database: Database, request: Request) -> Response:
    item = await run_answering(database, reader(plan, request))
    if item is not None and plan.urls.item:
        plan.urls.fill_item(item, request)
    return item_response(plan.response, item)


async def representation(plan: RowsPlan, conn: Any, request: Request) -> bytes | None:
    """The body `plan` (a read) answers for the request's row, read on `conn`: what a
    write's If-Match is compared with. None when the caller has no such row."""
    item = await reader(plan, request)(conn)
    if item is None:
        return None
    if plan.urls.item:
        plan.urls.fill_item(item, request)
    return dumps(wrap(plan.response, item))
