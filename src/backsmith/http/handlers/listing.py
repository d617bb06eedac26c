"""The list handler: filters, owner narrowing, ordering, pages by cursor, page or offset."""

from __future__ import annotations

from typing import Any

from backsmith.http.faults import run_answering
from backsmith.http.handlers.common import (
    across,
    bound,
    invalid,
    require_parents,
    scope_of,
    subject_of,
)
from backsmith.http.handlers.respond import envelope
from backsmith.http.kind_plans import RowsPlan
from backsmith.http.parsing import Parsed
from backsmith.http.request import Request
from backsmith.http.response import Response, json_response
from backsmith.http.shaping import dumps
from backsmith.http.urls import moves
from backsmith.model.types import Field, FieldType
from backsmith.storage.database import Database
from backsmith.storage.ordering import Ordering, decode_cursor, encode_cursor, order_keys

_UNSORTABLE = (FieldType.JSON, FieldType.ARRAY, FieldType.BINARY)
_MAX_OFFSET = 2**62  # past any table; keeps OFFSET inside every database's integer range


def _order(plan: RowsPlan, parsed: Parsed, subject: Any = None) -> Ordering:
    """The compiled default order, or the one `?sort=` (and `?order=`) asks for."""
    resource = plan.resource
    sort_name, order_name = plan.param_roles.get("sort"), plan.param_roles.get("order")
    direction = str(parsed.query.get(order_name, "")).lower() if order_name else ""
    requested = parsed.query.get(sort_name) if sort_name else None
    if requested in (None, "", []):
        if direction not in ("asc", "desc"):
            return plan.default_order
        prefix = "-" if direction == "desc" else ""
        terms = [prefix + t.lstrip("-") for t in plan.operation.default_sort]
        return order_keys(plan.queries.table, resource, terms)
    terms = []
    computed: dict[str, tuple[Any, Field]] = {}
    for token in requested if isinstance(requested, list) else str(requested).split(","):
        name, _, suffix = token.strip().partition(":")
        descending = (
            name.startswith("-")
            or suffix.lower() == "desc"
            or (direction == "desc" and not name.startswith(("-", "+")))
        )
        name = name.lstrip("+-")
        field = resource.field(name)
        sortable = plan.shaper.sortable(name, subject)
        if field is None and sortable is not None:
            computed[name] = sortable
            terms.append(("-" if descending else "") + name)
            continue
        if field is None or field.hidden or field.write_only or field.type in _UNSORTABLE:
            raise invalid(
                plan, f"cannot sort by '{name}'", parameter=str(sort_name), **{"in": "query"}
            )
        terms.append(("-" if descending else "") + field.column)
    return order_keys(plan.queries.table, resource, terms, computed)


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


async def handle_list(plan: RowsPlan, database: Database, request: Request) -> Response:
    parsed = request.parsed
    answer = plan.response
    subject = subject_of(request)
    equals = scope_of(plan, parsed)
    where = across(plan, parsed, subject)
    roles = plan.param_roles  # parameter roles (sort, limit, cursor...), not the caller's
    for name, column in plan.filters:
        if name in parsed.query:
            equals[column] = parsed.query[name]
    params = bound(plan, subject)
    if plan.caller_scope is not None:  # x-backsmith where: rows related to the caller
        plan.caller_scope.narrow(subject, where, params)
    owner = plan.owners.rows
    if owner is not None:  # after the filters: ?customer_id=<another's> finds nothing
        owner.narrow(request.principal, equals, where, params)
    pagination = plan.operation.pagination
    limit = _int(
        parsed.query.get(roles.get("limit", "")),
        plan.page_size if pagination is not None else plan.max_page_size,
    )
    if limit < 1:
        raise invalid(
            plan, "the page size must be at least 1", parameter=roles["limit"], **{"in": "query"}
        )
    limit = min(limit, plan.max_page_size)
    order = _order(plan, parsed, subject)
    after = None
    cursor = parsed.query.get(roles.get("cursor", ""))
    if cursor:
        after = decode_cursor(order, str(cursor))
        if after is None:
            raise invalid(
                plan, "not a cursor this list issued", parameter=roles["cursor"], **{"in": "query"}
            )
    page = _int(parsed.query.get(roles.get("page", "")), 1)
    offset = _int(parsed.query.get(roles.get("offset", "")), 0)
    if page < 1 or offset < 0:
        name = roles.get("page") or roles.get("offset", "")
        raise invalid(plan, "pages start at 1 and offsets at 0", parameter=name, **{"in": "query"})
    if pagination == "page":
        offset = (page - 1) * limit
    if offset > _MAX_OFFSET:
        name = roles.get("page") or roles.get("offset", "")
        raise invalid(plan, "the page is beyond any stored row", parameter=name, **{"in": "query"})
    shape = answer.envelope
    shaper = plan.shaper
    queries = plan.queries

    async def work(conn: Any) -> tuple[list[Any], list[Any], int | None]:
        extras = shaper.extras(subject)
        rows = await queries.page(
            conn, equals, order, limit + 1, after, offset, extras, where, params, answered=True
        )
        if not rows:
            await require_parents(plan, conn, parsed, request)
        total = await queries.count(conn, equals, where, params) if shape.total else None
        rows = rows[: limit + 1]
        items = await shaper.shape(conn, rows[:limit], subject)
        return rows, items, total

    rows, items, total = await run_answering(database, work)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        encode_cursor(order, rows[-1]) if more and rows and pagination == "cursor" else None
    )
    urls = plan.urls
    forward, back = moves(pagination, roles, more, next_cursor, page, offset, limit)
    headers = []
    if forward is not None:  # the same URL as the body's next link, absolute where it is
        url = urls.page_url(request, forward, urls.absolute_next)
        headers.append((b"link", f'<{url}>; rel="next"'.encode()))
    if urls.item:
        for item, row in zip(items, rows, strict=True):
            urls.fill_item(item, request, row)
    if shape.values is not None:  # {"genres": ["fantasy", "sea"]}: each row's one value
        items = [item[shape.values] for item in items]
    if shape.items is None:
        return json_response(answer.status, dumps(items), headers)
    body = envelope(shape, items, next_cursor, total, limit, page, offset, more)
    urls.fill_page(body, request, forward, back)
    return json_response(answer.status, dumps(body), headers)
