"""Link handlers: add or remove one row of a join table (a book's genre, a wishlist entry)."""

from __future__ import annotations

from typing import Any

from backsmith.errors import NotFound
from backsmith.http.faults import run_answering
from backsmith.http.handlers.common import scope_of, subject_of
from backsmith.http.handlers.respond import wrap
from backsmith.http.kind_plans import LinkPlan
from backsmith.http.request import Request
from backsmith.http.response import Response, empty, json_response
from backsmith.http.shaping import dumps
from backsmith.security.access import missing, unknown_caller
from backsmith.storage.database import Database
from backsmith.storage.related import caller_value


async def _change_link(
    plan: LinkPlan, database: Database, request: Request, adding: bool
) -> Response:
    parsed = request.parsed
    op, hop = plan.operation, plan.hop
    subject = subject_of(request)
    principal = request.principal
    links = plan.link_queries
    caller = None
    if op.link_caller is not None:
        caller = caller_value(links.table.c[op.link_caller], subject)
        if caller is None:
            guard = plan.guard
            raise (
                missing(guard.challenges)
                if subject is None
                else unknown_caller(guard.challenge_for(principal))
            )
    owners = plan.owners
    parent_equals = scope_of(plan, parsed)
    parent_where: list[Any] = []
    parent_params: dict[str, Any] = {}
    parent_owner = owners.link_parent
    address = None  # another's private row is not found; another's public row is forbidden
    if parent_owner is not None:
        address = parent_owner.narrow_change(principal, parent_equals, parent_where, parent_params)

    async def work(conn: Any) -> dict[str, Any] | None:
        parent = await plan.queries.fetch_one(
            conn, parent_equals, where=parent_where, params=parent_params
        )
        if parent is None:
            if parent_owner is not None:
                await parent_owner.refuse_visible(conn, plan.queries, address)
            raise NotFound("No such item.")
        target = None
        if plan.target is not None:
            target_name, target_column, target_queries = plan.target
            target_equals = {target_column: parsed.path[target_name]}
            target_where: list[Any] = []
            target_params: dict[str, Any] = {}
            if owners.link_target is not None:
                owners.link_target.narrow(principal, target_equals, target_where, target_params)
            target = await target_queries.fetch_one(
                conn, target_equals, where=target_where, params=target_params
            )
            if target is None:
                raise NotFound(f"No item matches path parameter '{target_name}'.")
            row = {
                hop.join_source[0]: parent[hop.source_columns[0]],
                hop.join_target[0]: target[hop.target_columns[0]],
            }
        else:  # the caller's own link (a wishlist entry): the caller column is declared
            row = {hop.target_columns[0]: parent[hop.source_columns[0]]}
            row[str(op.link_caller)] = caller
        callers = plan.callers_queries
        known = (
            callers is None
            or caller is None
            or plan.caller_key is None
            or await callers.fetch_one(conn, {plan.caller_key: caller})
        )
        if not known:
            raise unknown_caller(plan.guard.challenge_for(principal))
        existing = await links.fetch_one(conn, row)
        if adding and existing is None:
            await links.insert_ignoring_conflict(conn, {**plan.link_stamps.values(True), **row})
        elif not adding and existing is not None:
            await links.delete_all(conn, row)
        if plan.shaper is None:
            return None
        answered = target if plan.answers_target and target is not None else parent
        return await plan.shaper.reload(conn, answered, subject)

    item = await run_answering(database, work, transaction=True)
    answer = plan.response
    if item is None:
        return empty(answer.status if answer.status != 200 else 204)
    return json_response(answer.status, dumps(wrap(answer, item)))


async def handle_link(plan: LinkPlan, database: Database, request: Request) -> Response:
    return await _change_link(plan, database, request, adding=True)


async def handle_unlink(plan: LinkPlan, database: Database, request: Request) -> Response:
    return await _change_link(plan, database, request, adding=False)
