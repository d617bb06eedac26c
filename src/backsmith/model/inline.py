"""Resources no component schema names: a collection and item path over inline objects.

`GET /vehicles` answering `[{id, brand}]` and `GET /vehicles/{vehicleId}` answering
`{id, brand}` serve rows of a `vehicles` table, though no component schema names one. The
table is named after the collection's path segment, and described by the widest object the
pair's operations answer or accept: a bare object or array, or one inside a wrapper
(`{vehicle: {...}}`, `{data: {...}}`) or a list envelope (`{data: [...], links}`,
`{latest_posts: [...]}`, HAL's `{_embedded: {legs: [...]}}`). A nested pair
(`/conversations/{id}/members`) is a table of its own; the reference to its parent is then
found as for component resources (a `conversation_id` property, or the path).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backsmith.model.envelopes import DATA_NAMES, json_content
from backsmith.model.naming import names_match, singular, snake
from backsmith.model.paths import bare_path, is_item_of, is_item_path, path_segments, segment_names
from backsmith.model.resources import resource_from_object, table_name_for
from backsmith.model.schemas import component_name, deref, flatten, schema_types
from backsmith.model.types import Resource

_COLLECTION_METHODS = ("get", "post")
_ITEM_METHODS = ("get", "put", "patch", "delete")
# HAL groups a list's rows under `_embedded`: {"_embedded": {"legs": [...]}, "_links": ...}
_EMBEDDED = frozenset({"_embedded", "embedded"})


def inline_resources(
    document: dict[str, Any], resources: dict[str, Resource]
) -> dict[str, Resource]:
    """Tables for the collection/item path pairs over inline objects that no resource in
    `resources` is served at: one per path segment."""
    paths = {p: item for p, item in (document.get("paths") or {}).items() if isinstance(item, dict)}
    by_bare: dict[str, list[str]] = {}
    for path in paths:
        by_bare.setdefault(bare_path(path), []).append(path)
    pairs: dict[str, list[tuple[Any, bool, bool]]] = {}  # table -> (row, written?, read?)
    named = _table_names(by_bare)
    for bare, collection_paths in by_bare.items():
        segments = path_segments(bare)
        if bare not in named:
            continue
        item_paths = [
            p
            for other, group in by_bare.items()
            if is_item_of(path_segments(other), segments)
            for p in group
        ]
        segment = segments[-1]
        table = named[bare]
        statics = [s for s in segments if not s.startswith("{")]
        parent = statics[-2] if len(statics) > 1 else ""
        if not item_paths or table in resources:
            continue
        if any(segment_names(segment, r, parent) for r in resources.values()):
            continue
        objects = list(_objects(document, paths, collection_paths, item_paths, segment))
        pairs.setdefault(table, []).extend(objects)
    found: dict[str, Resource] = {}
    for table, objects in pairs.items():
        if not any(read for _, _, read in objects):
            continue  # rows no GET shows (a login's session) are no table
        if any(component_name(o) is not None for o, _, _ in objects):
            continue  # a component answers here: the schemas name the table, or none
        rows = [(o, written) for o, written, _ in objects]
        found[table] = resource_from_object(document, _row_schema(document, rows), table, table)
    return found


def _table_names(by_bare: dict[str, list[str]]) -> dict[str, str]:
    """Collection path -> table: named after its last segment, or, where that segment is
    a collection under several parents and never at the top (`/projects/{id}/members`
    beside `/teams/{id}/members`), after its parent too (`project_members`)."""
    collections = [b for b in by_bare if path_segments(b) and not is_item_path(path_segments(b))]
    parents: dict[str, set[str]] = {}
    for bare in collections:
        statics = [s for s in path_segments(bare) if not s.startswith("{")]
        parents.setdefault(statics[-1], set()).add(statics[-2] if len(statics) > 1 else "")
    names = {}
    for bare in collections:
        statics = [s for s in path_segments(bare) if not s.startswith("{")]
        segment, parent = statics[-1], statics[-2] if len(statics) > 1 else ""
        shared = len(parents[segment]) > 1 and "" not in parents[segment]
        joined = f"{singular(snake(parent))}_{snake(segment)}" if shared and parent else segment
        names[bare] = table_name_for(joined)
    return names


def _row_schema(document: dict[str, Any], objects: list[tuple[Any, bool]]) -> dict[str, Any]:
    """One row's schema: the widest object describes it, and the others add what it lacks
    (`GET /users/{id}` answers `{id, name}`, `PUT` accepts `{name, display_name}`).

    An answer's `required` says what it always shows, not what a client must send: where
    the pair takes rows in (POST, PUT), a column is required only if those bodies require
    it too, so a create with what its body asks for is never refused for a missing value.
    """
    flats = sorted(
        (flatten(document, o) for o, _ in objects),
        key=lambda flat: len(flat.get("properties") or {}),
        reverse=True,
    )
    properties: dict[str, Any] = {}
    for flat in flats:
        for name, prop in (flat.get("properties") or {}).items():
            properties.setdefault(name, prop)
    required = list(flats[0].get("required") or [])
    written = [flatten(document, o) for o, body in objects if body]
    if written:
        asked = {name for flat in written for name in flat.get("required") or []}
        required = [name for name in required if name in asked]
    return {"type": "object", "properties": properties, "required": required}


def _objects(
    document: dict[str, Any],
    paths: dict[str, Any],
    collection_paths: list[str],
    item_paths: list[str],
    segment: str,
) -> Iterator[tuple[Any, bool, bool]]:
    """The row objects a collection/item pair's operations answer or accept, each with
    whether a POST or PUT body takes it in and whether a GET shows it."""
    places: list[tuple[str, tuple[str, ...]]] = [(p, _COLLECTION_METHODS) for p in collection_paths]
    places += [(p, _ITEM_METHODS) for p in item_paths]
    for path, methods in places:
        for method in methods:
            op = paths[path].get(method)
            if not isinstance(op, dict):
                continue
            is_list = method == "get" and path in collection_paths
            for schema, body in _schemas(document, method, op):
                row = _row(document, schema, segment, is_list and not body)
                if row is not None:
                    yield row, body and method in ("post", "put"), method == "get"


def _schemas(
    document: dict[str, Any], method: str, op: dict[str, Any]
) -> Iterator[tuple[Any, bool]]:
    """An operation's 2xx JSON answers and its JSON request body (a DELETE's body holds
    options, `{force_destroy: true}`, never a row)."""
    for status, response in (op.get("responses") or {}).items():
        response = deref(document, response)
        if str(status).startswith("2") and isinstance(response, dict):
            _, schema = json_content(response.get("content"))
            if schema:
                yield schema, False
    body = deref(document, op.get("requestBody")) if method != "delete" else None
    if isinstance(body, dict):
        _, schema = json_content(body.get("content"))
        if schema:
            yield schema, True


def _row(document: dict[str, Any], schema: Any, segment: str, is_list: bool) -> Any:
    """The object one row is written as in `schema`, or None where it holds none."""
    flat = flatten(document, schema)
    if "array" in schema_types(flat):
        return _row(document, flat.get("items"), segment, False) if is_list else None
    properties = flat.get("properties") or {}
    if is_list:
        listed = _listed(document, properties, segment)
        return _row(document, listed, segment, True) if listed is not None else None
    if component_name(schema) is not None:
        return schema  # the caller leaves pairs answering components to the component rules
    for key, inner in properties.items():  # {vehicle: {...}}, {data: {...}}, {basic_group: {...}}
        wraps = names_match(key, segment) or snake(key) in DATA_NAMES or len(properties) == 1
        if wraps and _is_object(document, inner):
            return inner
    return schema if _is_object(document, schema) else None


def _listed(
    document: dict[str, Any], properties: dict[str, Any], segment: str, depth: int = 0
) -> Any:
    """The array of rows in a list envelope: the one named after the segment, else the only
    array of objects (`data`, `latest_posts`), looking one object down too (HAL's
    `_embedded: {legs: [...]}`, `{category_list: {categories: [...]}}`)."""
    arrays = {}
    for key, value in properties.items():
        flat = flatten(document, value)
        if depth == 0 and (key in _EMBEDDED or _is_object(document, flat)):
            inner = _listed(document, flat.get("properties") or {}, segment, 1)
            if inner is not None:
                arrays[key] = inner
        elif "array" in schema_types(flat) and _is_object(document, flat.get("items")):
            arrays[key] = value
    named = [v for k, v in arrays.items() if names_match(k, segment)]
    if len(named) == 1:
        return named[0]
    return next(iter(arrays.values())) if len(arrays) == 1 else None


def _is_object(document: dict[str, Any], schema: Any) -> bool:
    flat = flatten(document, schema)
    types = schema_types(flat)
    return bool(flat.get("properties")) and (not types or "object" in types)
