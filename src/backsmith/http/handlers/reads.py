"""The read handler: one row by its address, kept to the caller's rows when owned."""

from __future__ import annotations

from typing import Any

from backsmith.http.faults import run_answering
from backsmith.http.handlers.common import across, bound, scope_of, subject_of
from backsmith.http.handlers.respond import item_response
from backsmith.http.kind_plans import RowsPlan
from backsmith.http.request import Request
from backsmith.http.response import Response
from backsmith.storage.database import Database


async def handle_read(plan: RowsPlan, database: Database, request: Request) -> Response:
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

    async def work(conn: Any) -> dict[str, Any] | None:
        row = await queries.fetch_one(
            conn, equals, extras=shaper.extras(subject), where=where, params=params
        )
        return None if row is None else (await shaper.shape(conn, [row], subject))[0]

    item = await run_answering(database, work)
    if item is not None and plan.urls.item:
        plan.urls.fill_item(item, request)
    return item_response(plan.response, item)
