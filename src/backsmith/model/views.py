"""Schemas that are views of another resource's rows: `PublicCustomer` as three columns of
`customers`, served from that table rather than stored in one of their own.

A schema is a view of a resource when `x-backsmith: {table: customers}` says so, or by
convention: its properties are columns of that one resource, and an operation answers it
under a path that names the resource's key (`/profiles/{handle}`, `handle` unique) or the
resource itself (`/customers`). When several schemas declare one table, the one with the
most properties describes it; the others are views of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from backsmith.model.envelopes import ResponseShape, json_content
from backsmith.model.naming import names_match, singular, snake
from backsmith.model.paths import path_segments
from backsmith.model.schemas import component_name, deref, flatten, schema_types
from backsmith.model.types import Resource

CRUD_METHODS = ("get", "post", "put", "patch", "delete")
_DECLARED = ("embed", "count", "exists", "sum")  # served from relations, never a column

ShapeOf = Callable[[Any, bool], ResponseShape]


def describing_schema(candidates: list[str], schemas: dict[str, dict[str, Any]]) -> str:
    """Of the schemas stored in one table, the one describing it: the most properties."""
    return max(candidates, key=lambda name: len(schemas[name].get("properties") or {}))


def answered(document: dict[str, Any], shape_of: ShapeOf) -> Iterator[tuple[str, list[str], str]]:
    """(schema name, static segments, last path parameter or "") of every success answer."""
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        segments = path_segments(path)
        statics = [s for s in segments if not s.startswith("{")]
        last = segments[-1][1:-1] if segments and segments[-1].startswith("{") else ""
        for method in CRUD_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            for status, response in (op.get("responses") or {}).items():
                if not str(status).startswith("2"):
                    continue
                response = deref(document, response)
                content = response.get("content") if isinstance(response, dict) else None
                _, schema = json_content(content)
                if schema:
                    shape = shape_of(schema, bool(last) or method != "get")
                    name = shape.schema_name or _wrapped_name(document, schema)
                    if name:
                        yield name, statics, last


def _wrapped_name(document: dict[str, Any], schema: Any) -> str | None:
    """The schema a one-property wrapper holds (`{"profile": PublicCustomer}`), which the
    envelope reader cannot tell a wrapper before it knows the schema is served."""
    properties = flatten(document, schema).get("properties") or {}
    if len(properties) != 1:
        return None
    return component_name(next(iter(properties.values())))


def view_tables(
    document: dict[str, Any],
    schemas: dict[str, dict[str, Any]],
    resources: dict[str, Resource],
    schema_resources: dict[str, str],
    shape_of: ShapeOf,
) -> dict[str, str]:
    """Schema -> table, for each schema not yet served from a table that is a view of one."""
    found: dict[str, str] = {}
    for name, statics, last in answered(document, shape_of):
        if name not in schemas or name in schema_resources or name in found:
            continue
        properties = schemas[name].get("properties") or {}
        named_by_path = [r for r in resources.values() if _segment_names(r, statics)]
        candidates = named_by_path or list(resources.values())
        named = [
            r
            for r in candidates
            if _columns_of(schemas[name], r) and _path_names(r, statics, last, properties)
        ]
        if len(named) == 1:
            found[name] = named[0].table
    return found


def subset_views(
    document: dict[str, Any],
    schemas: dict[str, dict[str, Any]],
    chosen: list[str],
    named_by_path: Callable[[str], bool] | None = None,
) -> dict[str, str]:
    """Without DBML: chosen schema -> the chosen schema it is a view of.

    `PublicCustomer {handle, bio}` answered by `GET /customers` beside `Customer {id, handle,
    bio, email}` is a view of Customer, not a `public_customers` table: its properties are
    a part of Customer's, and no path names it (`named_by_path`: by the looser conventions,
    `TaskList` at /lists).
    """
    names = {n: _property_names(schemas[n]) for n in chosen}
    statics = {
        snake(s)
        for path in document.get("paths") or {}
        for s in path_segments(str(path))
        if not s.startswith("{")
    }
    views: dict[str, str] = {}
    for name in chosen:
        if any(names_match(s, name) for s in statics):
            continue
        if named_by_path is not None and named_by_path(name):
            continue
        if len(names[name]) < 2 or not _columns_of(schemas[name], None):
            continue  # a lone property or no scalar at all is too little to tell
        wider = [o for o in chosen if o != name and names[name] < names[o]]
        if len(wider) == 1:
            views[name] = wider[0]
    return views


def _property_names(schema: dict[str, Any]) -> frozenset[str]:
    return frozenset(snake(n) for n in schema.get("properties") or {})


def _columns_of(schema: dict[str, Any], resource: Resource | None) -> bool:
    """Whether `schema` has stored-looking properties, each a column of `resource`."""
    scalars = [
        name
        for name, prop in (schema.get("properties") or {}).items()
        if isinstance(prop, dict)
        and not any(k in (prop.get("x-backsmith") or {}) for k in _DECLARED)
        and not schema_types(prop) & {"object", "array"}
        and "$ref" not in prop
    ]
    if not scalars or resource is None:
        return bool(scalars)
    for name in scalars:
        field = resource.field(name)
        if field is None or field.hidden:
            return False
    return True


def _segment_names(resource: Resource, statics: list[str]) -> bool:
    return bool(statics) and names_match(statics[-1], resource.table)


def _path_names(
    resource: Resource, statics: list[str], last: str, properties: dict[str, Any]
) -> bool:
    """Whether a path names `resource`: its last static segment, or a last parameter naming
    one of the schema's own properties that is the key or a unique column of the resource
    (`/profiles/{handle}` answering `{handle, bio}`)."""
    if _segment_names(resource, statics):
        return True
    if not last:
        return False
    shown = {snake(p) for p in properties}
    name = snake(last)
    prefix = f"{singular(resource.table)}_"
    if name not in shown and name.startswith(prefix):
        name = name.removeprefix(prefix)  # {customerHandle} under customers
    if name not in shown:
        return False
    field = resource.field(name)
    if field is None or field.hidden:
        return False
    unique = field.primary_key or field.unique or resource.source == "schema"
    return unique or any(i.unique and i.columns == (field.column,) for i in resource.indexes)


__all__ = ["describing_schema", "subset_views", "view_tables"]
