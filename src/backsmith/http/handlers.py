"""CRUD handlers: each runs one compiled plan against the database in one transaction."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
import sqlalchemy.exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from backsmith.errors import (
    NotFound,
    NotImplementedOperation,
    Problem,
    Unprocessable,
    ValidationFailed,
)
from backsmith.http.plans import OperationPlan, Parsed
from backsmith.http.request import Request
from backsmith.http.response import Response, empty, json_response
from backsmith.http.shaping import default_json
from backsmith.model.types import Envelope, Field, FieldType, Kind
from backsmith.storage.engine import WRITE
from backsmith.storage.faults import problem_for, unavailable
from backsmith.storage.ids import uuid7
from backsmith.storage.queries import (
    OrderKey,
    decode_cursor,
    encode_cursor,
    from_json,
    order_keys,
)

Handler = Callable[[OperationPlan, AsyncEngine, Request], Awaitable[Response]]


def _dumps(value: Any) -> bytes:
    # UTC timestamps end in "Z", as RFC 3339 contracts usually show them.
    return orjson.dumps(value, default=default_json, option=orjson.OPT_UTC_Z)


def _scope(plan: OperationPlan, parsed: Parsed) -> dict[str, Any]:
    """Column equalities from path parameters: the item key and parent scopes."""
    return {column: parsed.path[name] for name, column in plan.addressing}


def _invalid(plan: OperationPlan, detail: str, **where: str) -> ValidationFailed:
    return ValidationFailed([{"detail": detail, "pointer": "#", **where}], plan.validation_status)


async def _run(
    engine: AsyncEngine,
    work: Callable[[Any], Awaitable[Any]],
    *,
    write: bool = False,
    deleting: bool = False,
) -> Any:
    """Run `work(conn)`, in one write transaction if `write`; database refusals become problems."""
    try:
        async with engine.connect() as conn:
            if not write:
                return await work(conn)
            conn = await conn.execution_options(**WRITE)
            async with conn.begin():
                return await work(conn)
    except sa_exc.DBAPIError as error:
        problem = problem_for(error, deleting)
        if problem is None:
            raise
        raise problem from None
    except OverflowError:  # a value the driver cannot bind, e.g. an integer past 64 bits
        raise Unprocessable("A value is out of range for its column.") from None
    except (OSError, TimeoutError):  # the driver could not reach the server at all
        raise unavailable() from None


async def _require_parents(plan: OperationPlan, conn: Any, parsed: Parsed) -> None:
    """404 when a parent a nested path names does not exist (/authors/999/books)."""
    for name, parent, column in plan.parents:
        if await parent.fetch_one(conn, {column: parsed.path[name]}) is None:
            raise NotFound(f"No parent item matches path parameter '{name}'.")


# ------------------------------------------------------------------- list
_UNSORTABLE = (FieldType.JSON, FieldType.ARRAY, FieldType.BINARY)


def _order(plan: OperationPlan, parsed: Parsed) -> list[OrderKey]:
    """The compiled default order, or the one `?sort=` (and `?order=`) asks for."""
    resource = plan.resource
    assert resource is not None and plan.queries is not None
    sort_name, order_name = plan.roles.get("sort"), plan.roles.get("order")
    direction = str(parsed.query.get(order_name, "")).lower() if order_name else ""
    requested = parsed.query.get(sort_name) if sort_name else None
    if requested in (None, "", []):
        if direction not in ("asc", "desc"):
            return plan.default_order
        prefix = "-" if direction == "desc" else ""
        terms = [prefix + t.lstrip("-") for t in plan.operation.default_sort]
        return order_keys(plan.queries.table, resource, terms)
    terms = []
    for token in requested if isinstance(requested, list) else str(requested).split(","):
        name, _, suffix = token.strip().partition(":")
        descending = (
            name.startswith("-")
            or suffix.lower() == "desc"
            or (direction == "desc" and not name.startswith(("-", "+")))
        )
        name = name.lstrip("+-")
        field = resource.field(name)
        if field is None or field.hidden or field.write_only or field.type in _UNSORTABLE:
            raise _invalid(
                plan, f"cannot sort by '{name}'", parameter=str(sort_name), **{"in": "query"}
            )
        terms.append(("-" if descending else "") + field.column)
    return order_keys(plan.queries.table, resource, terms)


_MAX_OFFSET = 2**62  # past any table; keeps OFFSET inside every database's integer range


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


async def handle_list(plan: OperationPlan, engine: AsyncEngine, request: Request) -> Response:
    parsed = await plan.parse(request)
    op = plan.operation
    assert plan.queries is not None and plan.shaper is not None and op.response is not None
    equals = _scope(plan, parsed)
    roles = plan.roles
    for name, column in plan.filters:
        if name in parsed.query:
            equals[column] = parsed.query[name]
    paginated = plan.pagination is not None
    limit = _int(
        parsed.query.get(roles.get("limit", "")),
        plan.page_size if paginated else plan.max_page_size,
    )
    if limit < 1:
        raise _invalid(
            plan, "the page size must be at least 1", parameter=roles["limit"], **{"in": "query"}
        )
    limit = min(limit, plan.max_page_size)
    order = _order(plan, parsed)
    after = None
    cursor = parsed.query.get(roles.get("cursor", ""))
    if cursor:
        after = decode_cursor(order, str(cursor))
        if after is None:
            raise _invalid(
                plan, "not a cursor this list issued", parameter=roles["cursor"], **{"in": "query"}
            )
    page = _int(parsed.query.get(roles.get("page", "")), 1)
    offset = _int(parsed.query.get(roles.get("offset", "")), 0)
    if page < 1 or offset < 0:
        name = roles.get("page") or roles.get("offset", "")
        raise _invalid(plan, "pages start at 1 and offsets at 0", parameter=name, **{"in": "query"})
    if plan.pagination == "page":
        offset = (page - 1) * limit
    if offset > _MAX_OFFSET:
        name = roles.get("page") or roles.get("offset", "")
        raise _invalid(plan, "the page is beyond any stored row", parameter=name, **{"in": "query"})
    envelope = op.response.envelope

    async def work(conn: Any) -> tuple[list[Any], int | None]:
        rows = await plan.queries.page(conn, equals, order, limit + 1, after, offset)  # type: ignore[union-attr]
        if not rows:
            await _require_parents(plan, conn, parsed)
        total = await plan.queries.count(conn, equals) if envelope.total else None  # type: ignore[union-attr]
        return rows, total

    rows, total = await _run(engine, work)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        encode_cursor(order, rows[-1]) if more and rows and plan.pagination == "cursor" else None
    )
    items = plan.shaper.many(rows)
    headers = _link(
        request, roles, next_cursor, page + 1 if more and plan.pagination == "page" else None
    )
    if envelope.items is None:
        return json_response(op.response.status, _dumps(items), headers)
    body = _envelope(envelope, items, next_cursor, total, limit, page, offset, more)
    return json_response(op.response.status, _dumps(body), headers)


def _envelope(
    envelope: Envelope,
    items: list[dict[str, Any]],
    next_cursor: str | None,
    total: int | None,
    limit: int,
    page: int,
    offset: int,
    more: bool,
) -> dict[str, Any]:
    body: dict[str, Any] = {envelope.items or "items": items}
    for key, value in (
        (envelope.cursor, next_cursor),
        (envelope.total, total),
        (envelope.limit, limit),
        (envelope.page, page),
        (envelope.offset, offset),
        (envelope.has_more, more),
    ):
        if key is not None:
            body[key] = value
    return body


def _link(
    request: Request, roles: dict[str, str], cursor: str | None, page: int | None
) -> list[tuple[bytes, bytes]]:
    """An RFC 8288 `Link: <...>; rel="next"` header for the next page, if there is one."""
    if cursor is None and page is None:
        return []
    query = {k: v[-1] for k, v in request.query.items()}
    if cursor is not None:
        query[roles["cursor"]] = cursor
    elif page is not None:
        query[roles["page"]] = str(page)
    return [(b"link", f'<{request.path}?{urlencode(query)}>; rel="next"'.encode())]


# ----------------------------------------------------------------- writes
def _now() -> datetime:
    return datetime.now(UTC)


def _values_from_body(plan: OperationPlan, body: dict[str, Any], replace: bool) -> dict[str, Any]:
    """Column values from a validated body; absent fields get defaults on create/replace."""
    values: dict[str, Any] = {}
    errors = []
    for name, field in plan.writable.items():
        if name in body and not field.read_only:
            try:
                values[field.column] = from_json(field, body[name])
            except (TypeError, ValueError, ArithmeticError):
                errors.append({"detail": f"not a valid {field.type}", "pointer": f"#/{name}"})
        elif replace and not field.primary_key:
            default = _default(field)
            if default is not None or field.nullable:
                values[field.column] = default
    if errors:
        raise ValidationFailed(errors, plan.validation_status)
    return values


def _default(field: Field) -> Any:
    if field.default is None:
        return None
    value = copy.deepcopy(field.default)
    try:
        return from_json(field, value)
    except (TypeError, ValueError, ArithmeticError):
        return None


def _server_values(plan: OperationPlan, creating: bool) -> dict[str, Any]:
    """Values the server sets: timestamps, and generated ids on create."""
    now = _now()
    values = dict.fromkeys(plan.updated, now)
    if creating:
        values.update(dict.fromkeys(plan.created, now))
        for field in plan.generated_ids:
            values[field.column] = uuid7() if field.type == FieldType.UUID else str(uuid7())
    return values


def _require_object(plan: OperationPlan, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _invalid(plan, "the body must be a JSON object")
    return body


async def handle_create(plan: OperationPlan, engine: AsyncEngine, request: Request) -> Response:
    parsed = await plan.parse(request)
    body = _require_object(plan, parsed.body)
    assert plan.queries is not None and plan.shaper is not None and plan.operation.response
    values = {**_server_values(plan, creating=True), **_values_from_body(plan, body, replace=True)}
    values.update(_scope(plan, parsed))

    async def work(conn: Any) -> Any:
        await _require_parents(plan, conn, parsed)
        return await plan.queries.insert(conn, values)  # type: ignore[union-attr]

    row = await _run(engine, work, write=True)
    headers = []
    location = plan.location_of(row)
    if location:
        headers.append((b"location", location.encode()))
    return json_response(plan.operation.response.status, _dumps(plan.shaper.one(row)), headers)


async def handle_read(plan: OperationPlan, engine: AsyncEngine, request: Request) -> Response:
    parsed = await plan.parse(request)
    assert plan.queries is not None and plan.shaper is not None and plan.operation.response
    row = await _run(engine, lambda conn: plan.queries.fetch_one(conn, _scope(plan, parsed)))  # type: ignore[union-attr]
    return _item(plan, row)


def _item(plan: OperationPlan, row: Any) -> Response:
    """The response for one row, or 404 when there is none."""
    if row is None:
        raise NotFound("No such item.")
    assert plan.shaper is not None and plan.operation.response is not None
    return json_response(plan.operation.response.status, _dumps(_wrap(plan, plan.shaper.one(row))))


def _wrap(plan: OperationPlan, item: dict[str, Any]) -> Any:
    wrapper = plan.operation.response.envelope.wrapper if plan.operation.response else None
    return {wrapper: item} if wrapper else item


def _key_equals(plan: OperationPlan, parsed: Parsed, body: dict[str, Any]) -> dict[str, Any]:
    equals = _scope(plan, parsed)
    key_name = plan.operation.key_in_body
    if key_name is not None:
        assert plan.resource is not None
        field = plan.resource.key
        if body.get(key_name) is None:
            raise _invalid(plan, f"the body must carry '{key_name}'")
        try:
            equals[field.column] = from_json(field, body[key_name])
        except (TypeError, ValueError):
            raise _invalid(plan, f"'{key_name}' is not a valid {field.type}") from None
    return equals


async def _change(
    plan: OperationPlan, request: Request, replace: bool
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(body, row to change by column, new column values) of a PUT or PATCH."""
    parsed = await plan.parse(request)
    body = _require_object(plan, parsed.body)
    equals = _key_equals(plan, parsed, body)
    values = _values_from_body(plan, body, replace=replace)
    for column in equals:  # the key addresses the row; it is never rewritten
        values.pop(column, None)
    return body, equals, values


async def handle_replace(plan: OperationPlan, engine: AsyncEngine, request: Request) -> Response:
    _, equals, values = await _change(plan, request, replace=True)
    values.update(_server_values(plan, creating=False))
    row = await _run(engine, lambda conn: plan.queries.update(conn, equals, values), write=True)  # type: ignore[union-attr]
    return _item(plan, row)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


async def handle_update(plan: OperationPlan, engine: AsyncEngine, request: Request) -> Response:
    body, equals, values = await _change(plan, request, replace=False)
    json_columns = [
        f.column
        for name, f in plan.writable.items()
        if f.type == FieldType.JSON and isinstance(body.get(name), dict)
    ]
    patch = {c: values[c] for c in json_columns if c in values}

    async def work(conn: Any) -> Any:
        if patch:  # nested objects merge into what is stored, so read it under a lock first
            current = await plan.queries.fetch_one(conn, equals, for_update=True)  # type: ignore[union-attr]
            if current is None:
                return None
            for column, value in patch.items():
                values[column] = merge_patch(current[column], value)
        if values:
            values.update(_server_values(plan, creating=False))
        return await plan.queries.update(conn, equals, values)  # type: ignore[union-attr]

    row = await _run(engine, work, write=True)
    return _item(plan, row)


async def handle_delete(plan: OperationPlan, engine: AsyncEngine, request: Request) -> Response:
    parsed = await plan.parse(request)
    assert plan.queries is not None and plan.shaper is not None and plan.operation.response
    equals = _scope(plan, parsed)
    row = await _run(
        engine, lambda conn: plan.queries.delete(conn, equals), write=True, deleting=True
    )  # type: ignore[union-attr]
    if row is None:
        raise NotFound("No such item.")
    response = plan.operation.response
    if response.status == 204 or response.media_type is None:
        return empty(response.status)
    return json_response(response.status, _dumps(_wrap(plan, plan.shaper.one(row))))


async def handle_custom(plan: OperationPlan, engine: AsyncEngine, request: Request) -> Response:
    op = plan.operation
    raise NotImplementedOperation(
        f"Operation '{op.operation_id}' ({op.method} {op.path}) is not CRUD and needs a handler; "
        f"{op.reason}."
    )


HANDLERS: dict[Kind, Handler] = {
    Kind.LIST: handle_list,
    Kind.CREATE: handle_create,
    Kind.READ: handle_read,
    Kind.REPLACE: handle_replace,
    Kind.UPDATE: handle_update,
    Kind.DELETE: handle_delete,
    Kind.CUSTOM: handle_custom,
}

__all__ = ["HANDLERS", "Problem", "merge_patch"]
