"""CRUD handlers: each runs one compiled plan against the database in one transaction."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import orjson

from backsmith.errors import (
    Conflict,
    Forbidden,
    NotFound,
    NotImplementedOperation,
    Problem,
    ValidationFailed,
)
from backsmith.http.faults import run_answering
from backsmith.http.plans import OperationPlan, Parsed
from backsmith.http.request import Request
from backsmith.http.response import Response, empty, json_response
from backsmith.http.shaping import default_json
from backsmith.http.writes import column_values, derive
from backsmith.model.types import Envelope, Field, FieldType, Kind
from backsmith.security.access import missing, unknown_caller
from backsmith.security.ownership import narrow
from backsmith.storage.database import Database
from backsmith.storage.queries import (
    Ordering,
    decode_cursor,
    encode_cursor,
    from_json,
    order_keys,
)
from backsmith.storage.related import caller_value, reaches
from backsmith.storage.unit import Hook

Handler = Callable[[OperationPlan, Database, Request], Awaitable[Response]]


def _dumps(value: Any) -> bytes:
    # UTC timestamps end in "Z", as RFC 3339 contracts usually show them.
    return orjson.dumps(value, default=default_json, option=orjson.OPT_UTC_Z)


def _scope(plan: OperationPlan, parsed: Parsed) -> dict[str, Any]:
    """Column equalities from path parameters: the item key and parent scopes."""
    return {column: parsed.path[name] for name, column in plan.addressing}


def _across(plan: OperationPlan, parsed: Parsed, principal: Any) -> list[Any]:
    """Conditions over related rows or computed values: scopes and filters across relations."""
    assert plan.queries is not None
    table = plan.queries.table
    clauses = []
    for param in plan.scopes_across:
        clauses.append(
            reaches(plan.tables, table, param.hops, param.column or "", parsed.path[param.name])
        )
    for param in plan.filters_across:
        if param.name not in parsed.query:
            continue
        value = parsed.query[param.name]
        if param.computed is not None:
            assert plan.shaper is not None
            found = plan.shaper.expression(param.declared or param.name, principal)
            if found is not None:
                expression = found[0]
                clauses.append(
                    expression.in_(value) if isinstance(value, list) else expression == value
                )
            continue
        clauses.append(reaches(plan.tables, table, param.hops, param.column or "", value))
    return clauses


def _bound(plan: OperationPlan, principal: Any) -> dict[str, Any]:
    """Values the computed expressions bind for this caller (its key, for `exists`)."""
    if plan.shaper is None or principal is None:
        return {}
    return plan.shaper.bound(principal)


def _principal(plan: OperationPlan, request: Request) -> Any:
    """The caller's subject; None for an anonymous caller."""
    principal = request.principal
    return principal.subject if principal is not None else None


def _owned(plan: OperationPlan, request: Request) -> tuple[dict[str, Any], list[Any]]:
    """What keeps an owned resource's statement to the caller's rows (nothing for admins)."""
    ownership = plan.ownership
    if ownership is None:
        return {}, []
    principal = request.principal
    if principal is None:
        raise missing()
    if plan.guard.sees_all(principal):
        return {}, []
    return ownership.conditions(principal)


def _invalid(plan: OperationPlan, detail: str, **where: str) -> ValidationFailed:
    return ValidationFailed([{"detail": detail, "pointer": "#", **where}], plan.validation_status)


async def _run(
    database: Database,
    work: Callable[[Any], Awaitable[Any]],
    *,
    transaction: bool = False,
    deleting: bool = False,
    hooks: Sequence[Hook] = (),
) -> Any:
    """Run `work(conn)` as one unit of work; storage faults become problems."""
    return await run_answering(
        database, work, transaction=transaction, deleting=deleting, hooks=hooks
    )


async def _require_parents(
    plan: OperationPlan, conn: Any, parsed: Parsed, request: Request
) -> None:
    """404 when a parent a nested path names does not exist (/authors/999/books), or
    belongs to someone else (/orders/<another's>/lines)."""
    principal = request.principal
    for (name, parent, column), ownership in zip(plan.parents, plan.parent_owners, strict=True):
        equals: dict[str, Any] = {column: parsed.path[name]}
        where: list[Any] = []
        if ownership is not None and not plan.guard.sees_all(principal):
            if principal is None:
                raise missing()
            owned, where = ownership.conditions(principal)
            narrow(equals, owned, where)
        if await parent.fetch_one(conn, equals, where=where) is None:
            raise NotFound(f"No parent item matches path parameter '{name}'.")


# ------------------------------------------------------------------- list
_UNSORTABLE = (FieldType.JSON, FieldType.ARRAY, FieldType.BINARY)


def _order(plan: OperationPlan, parsed: Parsed, principal: Any = None) -> Ordering:
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
        sortable = plan.shaper.sortable(name, principal) if plan.shaper is not None else None
        if field is None and sortable is not None:
            computed[name] = sortable
            terms.append(("-" if descending else "") + name)
            continue
        if field is None or field.hidden or field.write_only or field.type in _UNSORTABLE:
            raise _invalid(
                plan, f"cannot sort by '{name}'", parameter=str(sort_name), **{"in": "query"}
            )
        terms.append(("-" if descending else "") + field.column)
    return order_keys(plan.queries.table, resource, terms, computed)


_MAX_OFFSET = 2**62  # past any table; keeps OFFSET inside every database's integer range


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


async def handle_list(plan: OperationPlan, database: Database, request: Request) -> Response:
    parsed = await plan.parse(request)
    op = plan.operation
    assert plan.queries is not None and plan.shaper is not None and op.response is not None
    principal = _principal(plan, request)
    equals = _scope(plan, parsed)
    where = _across(plan, parsed, principal)
    roles = plan.roles
    for name, column in plan.filters:
        if name in parsed.query:
            equals[column] = parsed.query[name]
    owned, owned_where = _owned(plan, request)
    narrow(equals, owned, where)  # after the filters: ?customer_id=<another's> finds nothing
    where.extend(owned_where)
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
    order = _order(plan, parsed, principal)
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

    shaper = plan.shaper
    queries = plan.queries
    params = _bound(plan, principal)

    async def work(conn: Any) -> tuple[list[Any], list[Any], int | None]:
        extras = shaper.extras(principal)
        rows = await queries.page(
            conn, equals, order, limit + 1, after, offset, extras, where, params
        )
        if not rows:
            await _require_parents(plan, conn, parsed, request)
        total = await queries.count(conn, equals, where, params) if envelope.total else None
        rows = rows[: limit + 1]
        items = await shaper.shape(conn, rows[:limit], principal)
        return rows, items, total

    rows, items, total = await _run(database, work)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        encode_cursor(order, rows[-1]) if more and rows and plan.pagination == "cursor" else None
    )
    next_url = _next_url(
        request,
        roles,
        next_cursor,
        page + 1 if more and plan.pagination == "page" else None,
        offset + limit if more and plan.pagination == "offset" else None,
    )
    headers = [(b"link", f'<{next_url}>; rel="next"'.encode())] if next_url else []
    if envelope.items is None:
        return json_response(op.response.status, _dumps(items), headers)
    body = _envelope(envelope, items, next_cursor, total, limit, page, offset, more)
    if envelope.next is not None:
        _place(body, envelope.next, next_url)
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
    body: dict[str, Any] = {}
    for key, value in (
        (envelope.items or "items", items),
        (envelope.cursor, next_cursor),
        (envelope.total, total),
        (envelope.limit, limit),
        (envelope.page, page),
        (envelope.offset, offset),
        (envelope.has_more, more),
    ):
        if key is not None:
            _place(body, key, value)
    return body


def _place(body: dict[str, Any], path: str, value: Any) -> None:
    """Set `meta.pagination.total`-style dotted keys, making the objects on the way."""
    *parents, last = path.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[last] = value


def _next_url(
    request: Request,
    roles: dict[str, str],
    cursor: str | None,
    page: int | None,
    offset: int | None,
) -> str | None:
    """The next page's URL (path and query), if there is a next page.

    The request's own query string is kept as sent, repeated parameters and all; only the
    parameter that moves to the next page is replaced.
    """
    if cursor is not None:
        name, value = roles["cursor"], cursor
    elif page is not None:
        name, value = roles["page"], str(page)
    elif offset is not None:
        name, value = roles["offset"], str(offset)
    else:
        return None
    raw = request.scope.get("query_string", b"").decode("latin-1")
    kept = [pair for pair in raw.split("&") if pair and _query_name(pair) != name]
    kept.append(f"{quote_plus(name)}={quote_plus(value)}")
    return f"{request.raw_path}?{'&'.join(kept)}"


def _query_name(pair: str) -> str:
    name = pair.partition("=")[0]
    return unquote_plus(name) if "%" in name or "+" in name else name


# ----------------------------------------------------------------- writes
def _require_object(plan: OperationPlan, body: Any) -> dict[str, Any]:
    wrapper = plan.operation.body_wrapper
    if wrapper is not None and isinstance(body, dict):
        body = body.get(wrapper)  # {"book": {...}}: the schema has checked it is there
    if not isinstance(body, dict):
        raise _invalid(plan, "the body must be a JSON object")
    return body


def _child_items(plan: OperationPlan, body: dict[str, Any], creating: bool) -> list[Any]:
    """(children, items) pairs the body carries; refused on PUT/PATCH unless declared.

    A PUT replaces the whole resource: replaceable children it leaves out become none.
    """
    found = []
    errors = []
    at = plan.body_pointer
    for children in plan.children:
        if children.name not in body:
            if plan.operation.kind == Kind.REPLACE and children.replace:
                found.append((children, []))
            continue
        items = body[children.name]
        if not isinstance(items, list):
            errors.append({"detail": "must be an array", "pointer": f"{at}/{children.name}"})
        elif not creating and not children.replace:
            detail = (
                f"'{children.name}' cannot be changed by this operation "
                "(the contract does not declare x-backsmith children: replace)"
            )
            errors.append({"detail": detail, "pointer": f"{at}/{children.name}"})
        else:
            found.append((children, items))
    if errors:
        raise ValidationFailed(errors, plan.validation_status)
    return found


async def _respond_row(
    plan: OperationPlan, conn: Any, row: Any, principal: Any, refetch: bool
) -> dict[str, Any] | None:
    """The response item for a written row, read again when it embeds or computes anything."""
    assert plan.shaper is not None
    if row is None:
        return None
    if refetch or not plan.shaper.flat:
        return await plan.shaper.reload(conn, row, principal)
    return plan.shaper.one(row)


def _pointed(plan: OperationPlan, problem: Problem) -> Problem:
    """A database refusal that names a column, pointed at the body property it came from."""
    if problem.column and not problem.errors:
        for name, field in plan.writable.items():
            if field.column == problem.column:
                pointer = f"{plan.body_pointer}/{name}"
                problem.errors = [{"detail": problem.detail, "pointer": pointer}]
                break
    return problem


async def handle_create(plan: OperationPlan, database: Database, request: Request) -> Response:
    parsed = await plan.parse(request)
    body = _require_object(plan, parsed.body)
    assert plan.queries is not None and plan.shaper is not None and plan.operation.response
    assert plan.stamps is not None
    principal = _principal(plan, request)
    given = column_values(plan.writable, body, True, plan.validation_status, plan.body_pointer)
    children = _child_items(plan, body, creating=True)
    queries = plan.queries
    scope = _scope(plan, parsed)
    checks_reference = _own_new_row(plan, request, given, body)

    # One INSERT ... RETURNING is atomic alone; anything more runs in a transaction.
    several = bool(
        plan.parents or plan.derive or children or checks_reference or not plan.shaper.flat
    )

    async def work(conn: Any) -> tuple[Any, dict[str, Any] | None]:
        await _require_parents(plan, conn, parsed, request)
        values = {**plan.stamps.values(creating=True), **given, **scope}  # type: ignore[union-attr]
        if checks_reference:
            from_path = plan.ownership.reference in scope  # type: ignore[union-attr]
            await plan.ownership.require_owned_reference(  # type: ignore[union-attr]
                conn, values, request.principal, from_path, plan.body_names, plan.body_pointer
            )
        if plan.derive:
            await derive(conn, queries.table, plan.derive, values, attempt)
        row = await queries.insert(conn, values)
        for writer, items in children:
            await writer.write(conn, row, items, plan.validation_status, plan.body_pointer, False)
        return row, await _respond_row(plan, conn, row, principal, refetch=bool(children))

    attempt = 0
    while True:
        try:
            row, item = await _run(database, work, transaction=several)
            break
        except Conflict as conflict:
            # Two creates derived the same slug at once: derive again past the winner's.
            attempt += 1
            if not plan.derive or attempt > 3:
                raise _pointed(plan, conflict) from None
        except Problem as problem:
            raise _pointed(plan, problem) from None
    headers = []
    location = plan.location_of(row)
    if location:
        headers.append((b"location", location.encode()))
    return json_response(plan.operation.response.status, _dumps(_wrap(plan, item)), headers)


def _own_new_row(
    plan: OperationPlan, request: Request, given: dict[str, Any], body: dict[str, Any]
) -> bool:
    """Give a new row the caller as its owner; whether its parent's owner is still to check."""
    ownership = plan.ownership
    if ownership is None:
        return False
    principal = request.principal
    if principal is None:
        raise missing()
    if plan.guard.sees_all(principal):
        if not ownership.owner.hops and given.get(ownership.owner.column) is None:
            given[ownership.owner.column] = ownership.value(principal)
        return False
    if ownership.owner.hops:
        return True
    ownership.refuse_other_owner(given, body, principal, plan.body_names, plan.body_pointer)
    value = ownership.value(principal)
    if value is None:
        raise Forbidden("Not allowed: the caller's credentials name no possible owner.")
    given[ownership.owner.column] = value
    return False


async def handle_read(plan: OperationPlan, database: Database, request: Request) -> Response:
    parsed = await plan.parse(request)
    assert plan.queries is not None and plan.shaper is not None and plan.operation.response
    principal = _principal(plan, request)
    queries, shaper = plan.queries, plan.shaper
    owned, where = _owned(plan, request)
    equals = _scope(plan, parsed)
    narrow(equals, owned, where)
    where.extend(_across(plan, parsed, principal))

    async def work(conn: Any) -> dict[str, Any] | None:
        row = await queries.fetch_one(
            conn,
            equals,
            extras=shaper.extras(principal),
            where=where,
            params=_bound(plan, principal),
        )
        return None if row is None else (await shaper.shape(conn, [row], principal))[0]

    return _item(plan, await _run(database, work))


def _item(plan: OperationPlan, item: dict[str, Any] | None) -> Response:
    """The response for one shaped item, or 404 when there is none."""
    if item is None:
        raise NotFound("No such item.")
    assert plan.operation.response is not None
    return json_response(plan.operation.response.status, _dumps(_wrap(plan, item)))


def _wrap(plan: OperationPlan, item: dict[str, Any]) -> Any:
    wrapper = plan.operation.response.envelope.wrapper if plan.operation.response else None
    if not wrapper:
        return item
    body: dict[str, Any] = {}
    _place(body, wrapper, item)
    return body


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


async def _change(
    plan: OperationPlan, database: Database, request: Request, replace: bool
) -> Response:
    """PUT (replace) or PATCH (merge): update the row, then its declared children."""
    parsed = await plan.parse(request)
    body = _require_object(plan, parsed.body)
    assert plan.queries is not None and plan.stamps is not None
    principal = _principal(plan, request)
    equals = _key_equals(plan, parsed, body)
    values = column_values(plan.writable, body, replace, plan.validation_status, plan.body_pointer)
    owned, owned_where = _owned(plan, request)
    checks_reference = False
    if plan.ownership is not None and (owned or owned_where):
        plan.ownership.refuse_other_owner(
            values, body, request.principal, plan.body_names, plan.body_pointer
        )
        checks_reference = plan.ownership.reference in values
    where = [*_across(plan, parsed, principal), *owned_where]
    narrow(equals, owned, where)
    for column in equals:  # the key addresses the row; it is never rewritten
        values.pop(column, None)
    children = _child_items(plan, body, creating=False)
    patch = {}
    if not replace:  # nested objects merge into what is stored
        patch = {
            f.column: values[f.column]
            for name, f in plan.writable.items()
            if f.type == FieldType.JSON and isinstance(body.get(name), dict) and f.column in values
        }
    queries, stamps = plan.queries, plan.stamps
    assert plan.shaper is not None
    several = bool(patch or where or children or checks_reference or not plan.shaper.flat)
    params = _bound(plan, principal)

    async def work(conn: Any) -> dict[str, Any] | None:
        if checks_reference:  # moving a row under another parent: one the caller owns
            await plan.ownership.require_owned_reference(  # type: ignore[union-attr]
                conn, values, request.principal, False, plan.body_names, plan.body_pointer
            )
        if patch or where:  # read under a lock first
            current = await queries.fetch_one(
                conn, equals, for_update=True, where=where, params=params
            )
            if current is None:
                return None
            for column, value in patch.items():
                values[column] = merge_patch(current[column], value)
        if values or replace or children:
            values.update(stamps.values(creating=False))
        row = await queries.update(conn, equals, values)
        if row is None:
            return None
        for writer, items in children:
            await writer.write(conn, row, items, plan.validation_status, plan.body_pointer, True)
        return await _respond_row(plan, conn, row, principal, refetch=bool(children))

    try:
        item = await _run(database, work, transaction=several)
    except Problem as problem:
        raise _pointed(plan, problem) from None
    return _item(plan, item)


async def handle_replace(plan: OperationPlan, database: Database, request: Request) -> Response:
    return await _change(plan, database, request, replace=True)


async def handle_update(plan: OperationPlan, database: Database, request: Request) -> Response:
    return await _change(plan, database, request, replace=False)


async def handle_delete(plan: OperationPlan, database: Database, request: Request) -> Response:
    parsed = await plan.parse(request)
    assert plan.queries is not None and plan.shaper is not None and plan.operation.response
    principal = _principal(plan, request)
    owned, owned_where = _owned(plan, request)
    equals = _scope(plan, parsed)
    where = [*_across(plan, parsed, principal), *owned_where]
    narrow(equals, owned, where)
    response = plan.operation.response
    shaped = response.status != 204 and response.media_type is not None
    queries, shaper = plan.queries, plan.shaper
    several = bool(where or (shaped and not shaper.flat))
    params = _bound(plan, principal)

    async def work(conn: Any) -> tuple[Any, dict[str, Any] | None]:
        item = None
        if several:
            current = await queries.fetch_one(
                conn,
                equals,
                for_update=True,
                extras=shaper.extras(principal),
                where=where,
                params=params,
            )
            if current is None:
                return None, None
            if shaped:
                item = (await shaper.shape(conn, [current], principal))[0]
        row = await queries.delete(conn, equals)
        if row is not None and shaped and item is None:
            item = shaper.one(row)
        return row, item

    row, item = await _run(database, work, transaction=several, deleting=True)
    if row is None:
        raise NotFound("No such item.")
    if not shaped:
        return empty(response.status)
    return json_response(response.status, _dumps(_wrap(plan, item or {})))


# ------------------------------------------------------------------ links
async def _change_link(
    plan: OperationPlan, database: Database, request: Request, adding: bool
) -> Response:
    """Add or remove one row of a join table: a book's genre, or the caller's wishlist entry."""
    parsed = await plan.parse(request)
    op = plan.operation
    hop = op.link
    assert hop is not None and plan.queries is not None and plan.link_queries is not None
    assert op.response is not None
    principal = _principal(plan, request)
    links = plan.link_queries
    caller = None
    if op.link_principal is not None:
        caller = caller_value(links.table.c[op.link_principal], principal)
        if caller is None:
            raise missing() if principal is None else unknown_caller()
    target_param = plan.target_param

    parent_owner, target_owner = plan.link_owners
    parent_equals = _scope(plan, parsed)
    parent_where = _link_owned(plan, request, parent_owner, parent_equals)

    async def work(conn: Any) -> dict[str, Any] | None:
        parent = await plan.queries.fetch_one(conn, parent_equals, where=parent_where)  # type: ignore[union-attr]
        if parent is None:
            raise NotFound("No such item.")
        target = None
        if hop.kind == "through":
            assert plan.target_queries is not None and target_param is not None
            value = parsed.path[target_param.name]
            target_equals = {target_param.column: value}
            target_where = _link_owned(plan, request, target_owner, target_equals)
            target = await plan.target_queries.fetch_one(conn, target_equals, where=target_where)
            if target is None:
                raise NotFound(f"No item matches path parameter '{target_param.name}'.")
            row = {
                hop.join_source[0]: parent[hop.source_columns[0]],
                hop.join_target[0]: target[hop.target_columns[0]],
            }
        else:
            row = {hop.target_columns[0]: parent[hop.source_columns[0]], op.link_principal: caller}
        if plan.callers_queries is not None and caller is not None:
            assert plan.caller_key is not None
            if await plan.callers_queries.fetch_one(conn, {plan.caller_key: caller}) is None:
                raise unknown_caller()
        existing = await links.fetch_one(conn, row)
        if adding and existing is None:
            await links.insert_ignoring_conflict(conn, {**plan.link_stamps.values(True), **row})  # type: ignore[union-attr]
        elif not adding and existing is not None:
            await links.delete_all(conn, row)
        if plan.shaper is None:
            return None
        answered = target if plan.answers_target else parent
        return await plan.shaper.reload(conn, answered, principal)

    item = await _run(database, work, transaction=True)
    if item is None:
        return empty(op.response.status if op.response.status != 200 else 204)
    return json_response(op.response.status, _dumps(_wrap(plan, item)))


def _link_owned(
    plan: OperationPlan, request: Request, ownership: Any, equals: dict[str, Any]
) -> list[Any]:
    """The owner conditions of a row a link names; another owner's row is not found."""
    where: list[Any] = []
    if ownership is None or plan.guard.sees_all(request.principal):
        return where
    if request.principal is None:
        raise missing()
    owned, where = ownership.conditions(request.principal)
    narrow(equals, owned, where)
    return where


async def handle_link(plan: OperationPlan, database: Database, request: Request) -> Response:
    return await _change_link(plan, database, request, adding=True)


async def handle_unlink(plan: OperationPlan, database: Database, request: Request) -> Response:
    return await _change_link(plan, database, request, adding=False)


async def handle_custom(plan: OperationPlan, database: Database, request: Request) -> Response:
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
    Kind.LINK: handle_link,
    Kind.UNLINK: handle_unlink,
    Kind.CUSTOM: handle_custom,
}

__all__ = ["HANDLERS", "Problem", "merge_patch"]
