"""Writes of one row: create, replace (PUT), update (merge PATCH) and delete, with the
children a body carries and the owner a row is given or kept to."""

from __future__ import annotations

import copy
from typing import Any

from backsmith.errors import Conflict, NotFound, Problem, ValidationFailed
from backsmith.http.faults import run_answering
from backsmith.http.handlers.common import (
    across,
    bound,
    invalid,
    require_parents,
    respond_row,
    scope_of,
    subject_of,
)
from backsmith.http.handlers.respond import item_response, location, wrap
from backsmith.http.kind_plans import RowsPlan
from backsmith.http.parsing import Parsed
from backsmith.http.request import Request
from backsmith.http.response import Response, empty, json_response
from backsmith.http.shaping import dumps
from backsmith.http.writes import column_values, derive
from backsmith.model.types import FieldType, Kind
from backsmith.storage.database import Database
from backsmith.storage.queries import from_json


def _require_object(plan: RowsPlan, body: Any) -> dict[str, Any]:
    wrapper = plan.operation.body_wrapper
    if wrapper is not None and isinstance(body, dict):
        body = body.get(wrapper)  # {"book": {...}}: the schema has checked it is there
    if not isinstance(body, dict):
        raise invalid(plan, "the body must be a JSON object")
    return body


def _child_items(plan: RowsPlan, body: dict[str, Any], creating: bool) -> list[Any]:
    """(children, items) pairs the body carries; refused on PUT/PATCH unless declared.

    A PUT replaces the whole resource: replaceable children it leaves out become none.
    """
    found: list[tuple[Any, list[Any]]] = []
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


def _pointed(plan: RowsPlan, problem: Problem) -> Problem:
    """A database refusal that names a column, pointed at the body property it came from."""
    if problem.column and not problem.errors:
        named = [(f"{name}/{key}", f) for name, (key, f) in plan.references.items()]
        for name, field in [*named, *plan.writable.items()]:
            if field.column == problem.column:
                pointer = f"{plan.body_pointer}/{name}"
                problem.errors = [{"detail": problem.detail, "pointer": pointer}]
                break
    return problem


async def handle_create(plan: RowsPlan, database: Database, request: Request) -> Response:
    parsed = request.parsed
    body = _require_object(plan, parsed.body)
    subject = subject_of(request)
    at = plan.body_pointer
    given = column_values(plan.writable, body, True, plan.validation_status, at, plan.references)
    children = _child_items(plan, body, creating=True)
    queries, stamps = plan.queries, plan.stamps
    scope = scope_of(plan, parsed)
    owner = plan.owners.rows
    checks_reference = owner is not None and owner.own_new_row(
        request.principal, given, body, plan.body_names, at
    )
    reference_owner = owner if checks_reference else None

    # One INSERT ... RETURNING is atomic alone; anything more runs in a transaction.
    several = bool(
        plan.parents or plan.derive or children or checks_reference or not plan.shaper.flat
    )

    async def work(conn: Any) -> tuple[Any, dict[str, Any] | None]:
        await require_parents(plan, conn, parsed, request)
        values = {**stamps.values(creating=True), **given, **scope}
        if reference_owner is not None:
            from_path = reference_owner.reference in scope
            await reference_owner.require_owned_reference(
                conn, values, request.principal, from_path, plan.body_names, at
            )
        if plan.derive:
            await derive(conn, queries.table, plan.derive, values, attempt)
        row = await queries.insert(conn, values)
        for writer, items in children:
            await writer.write(conn, row, items, plan.validation_status, at, False)
        return row, await respond_row(plan, conn, row, subject, refetch=bool(children))

    attempt = 0
    while True:
        try:
            row, item = await run_answering(database, work, transaction=several)
            break
        except Conflict as conflict:
            # Two creates derived the same slug at once: derive again past the winner's.
            attempt += 1
            if not plan.derive or attempt > 3:
                raise _pointed(plan, conflict) from None
        except Problem as problem:
            raise _pointed(plan, problem) from None
    answer = plan.response
    headers = location(plan.location_of(row))
    if item is not None and plan.urls.item:
        plan.urls.fill_item(item, request, row)
    return json_response(answer.status, dumps(wrap(answer, item or {})), headers)


def _key_equals(plan: RowsPlan, parsed: Parsed, body: dict[str, Any]) -> dict[str, Any]:
    equals = scope_of(plan, parsed)
    key_name = plan.operation.key_in_body
    if key_name is not None:
        field = plan.resource.key
        if body.get(key_name) is None:
            raise invalid(plan, f"the body must carry '{key_name}'")
        try:
            equals[field.column] = from_json(field, body[key_name])
        except (TypeError, ValueError):
            raise invalid(plan, f"'{key_name}' is not a valid {field.type}") from None
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


async def _change(plan: RowsPlan, database: Database, request: Request, replace: bool) -> Response:
    """PUT (replace) or PATCH (merge): update the row, then its declared children."""
    parsed = request.parsed
    body = _require_object(plan, parsed.body)
    subject = subject_of(request)
    principal = request.principal
    at = plan.body_pointer
    equals = _key_equals(plan, parsed, body)
    values = column_values(
        plan.writable, body, replace, plan.validation_status, at, plan.references
    )
    where = across(plan, parsed, subject)
    params = bound(plan, subject)
    owner = plan.owners.rows
    reference_owner = None  # the owner rule a changed reference is checked against
    address = None  # a public row's address: another's row is forbidden, not missing
    if owner is not None:
        address = owner.narrow_change(principal, equals, where, params)
        if owner.claim_change(principal, values, body, plan.body_names, at):
            reference_owner = owner
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
    several = bool(patch or where or children or reference_owner or not plan.shaper.flat)

    async def missing(conn: Any) -> None:
        if owner is not None:  # no row of the caller's: 403 if it is another's public row
            await owner.refuse_visible(conn, queries, address)

    async def work(conn: Any) -> dict[str, Any] | None:
        if reference_owner is not None:  # moving a row under another parent: one the caller owns
            await reference_owner.require_owned_reference(
                conn, values, principal, False, plan.body_names, at
            )
        if patch or where:  # read under a lock first
            current = await queries.fetch_one(
                conn, equals, for_update=True, where=where, params=params
            )
            if current is None:
                await missing(conn)
                return None
            for column, value in patch.items():
                values[column] = merge_patch(current[column], value)
        if values or replace or children:
            values.update(stamps.values(creating=False))
        row = await queries.update(conn, equals, values)
        if row is None:
            await missing(conn)
            return None
        for writer, items in children:
            await writer.write(conn, row, items, plan.validation_status, at, True)
        return await respond_row(plan, conn, row, subject, refetch=bool(children))

    try:
        item = await run_answering(database, work, transaction=several)
    except Problem as problem:
        raise _pointed(plan, problem) from None
    if item is not None and plan.urls.item:
        plan.urls.fill_item(item, request)
    return item_response(plan.response, item)


async def handle_replace(plan: RowsPlan, database: Database, request: Request) -> Response:
    return await _change(plan, database, request, replace=True)


async def handle_update(plan: RowsPlan, database: Database, request: Request) -> Response:
    return await _change(plan, database, request, replace=False)


async def handle_delete(plan: RowsPlan, database: Database, request: Request) -> Response:
    parsed = request.parsed
    subject = subject_of(request)
    equals = scope_of(plan, parsed)
    where = across(plan, parsed, subject)
    params = bound(plan, subject)
    owner = plan.owners.rows
    address = None  # a public row's address: another's row is forbidden, not missing
    if owner is not None:
        address = owner.narrow_change(request.principal, equals, where, params)
    answer = plan.response
    shaped = answer.status != 204 and answer.media_type is not None
    queries, shaper = plan.queries, plan.shaper
    several = bool(where or (shaped and not shaper.flat))

    async def work(conn: Any) -> tuple[Any, dict[str, Any] | None]:
        item = None
        if several:
            current = await queries.fetch_one(
                conn,
                equals,
                for_update=True,
                extras=shaper.extras(subject),
                where=where,
                params=params,
            )
            if current is None:
                if owner is not None:
                    await owner.refuse_visible(conn, queries, address)
                return None, None
            if shaped:
                item = (await shaper.shape(conn, [current], subject))[0]
        row = await queries.delete(conn, equals)
        if row is None and owner is not None:
            await owner.refuse_visible(conn, queries, address)
        if row is not None and shaped and item is None:
            item = shaper.one(row)
        return row, item

    row, item = await run_answering(database, work, transaction=several, deleting=True)
    if row is None:
        raise NotFound("No such item.")
    if not shaped:
        return empty(answer.status)
    if item is not None and plan.urls.item:  # where the row was
        plan.urls.fill_item(item, request, row)
    return json_response(answer.status, dumps(wrap(answer, item or {})))
