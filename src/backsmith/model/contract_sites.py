"""Places in the contract as written, each with its JSON pointer, for reviewing it (lint).

The model reads the contract to serve it; a review reads it to point at a line. These walk
the raw document (the model's privilege) and hand out plain values with the pointer where
each was written: a property met through a `$ref` points into the component, so a finding
lands on the line a person edits, once, however many operations use the schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from backsmith.contract.refs import resolve_pointer
from backsmith.contract.source import escape
from backsmith.model.schemas import deref
from backsmith.model.types import Model, Operation

_MAX_DEPTH = 16
_BRANCHES = ("allOf", "oneOf", "anyOf")


@dataclass(frozen=True, slots=True)
class PropertySite:
    """One object property where it is written: its name, schema and pointer, and the
    `required` list of the object that declares it."""

    name: str
    schema: dict[str, Any]
    pointer: str
    required: bool
    schema_pointer: str  # where its schema is written: the `$ref`'s target, or `pointer`


def at(document: dict[str, Any], pointer: str) -> Any:
    """The value at `pointer`, or None."""
    try:
        return resolve_pointer(document, pointer)
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def object_properties(
    document: dict[str, Any], schema: Any, pointer: str, depth: int = 0
) -> Iterator[PropertySite]:
    """The properties of an object schema, through `$ref`s and `allOf`/`oneOf`/`anyOf`."""
    if depth > _MAX_DEPTH or not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        yield from object_properties(document, at(document, ref[1:]), ref[1:], depth + 1)
        return
    required = schema.get("required")
    required = set(required) if isinstance(required, list) else set()
    properties = schema.get("properties")
    for name, prop in (properties if isinstance(properties, dict) else {}).items():
        prop_pointer = f"{pointer}/properties/{escape(str(name))}"
        target = prop.get("$ref") if isinstance(prop, dict) else None
        written = target[1:] if isinstance(target, str) and target.startswith("#") else None
        resolved = deref(document, prop)
        if isinstance(resolved, dict):
            where = written or prop_pointer
            yield PropertySite(str(name), resolved, prop_pointer, name in required, where)
    for branch in _BRANCHES:
        parts = schema.get(branch)
        for index, part in enumerate(parts if isinstance(parts, list) else []):
            yield from object_properties(document, part, f"{pointer}/{branch}/{index}", depth + 1)


def every_property(document: dict[str, Any]) -> Iterator[PropertySite]:
    """Each property written anywhere in the contract's schemas, once, nested ones too:
    component schemas, then the inline schemas of request and response bodies."""
    seen: set[str] = set()
    roots: list[tuple[Any, str]] = []
    components = document.get("components") or {}
    schemas = components.get("schemas") or {}
    for name, schema in schemas.items() if isinstance(schemas, dict) else ():
        roots.append((schema, f"/components/schemas/{escape(str(name))}"))
    for part in ("requestBodies", "responses"):  # bodies declared once, used by reference
        bodies = components.get(part) or {}
        for name, body in bodies.items() if isinstance(bodies, dict) else ():
            where = f"/components/{part}/{escape(str(name))}"
            schema, pointer = _json_schema(body, where)
            if schema is not None:
                roots.append((schema, pointer))
    for pointer, operation in operations(document):
        roots += [(schema, where) for where, schema in _body_schemas(operation, pointer)]
    for schema, pointer in roots:
        yield from _nested(document, schema, pointer, seen, 0)


def _nested(
    document: dict[str, Any], schema: Any, pointer: str, seen: set[str], depth: int
) -> Iterator[PropertySite]:
    for site in object_properties(document, schema, pointer):
        if site.pointer in seen:  # a component met again, or a cycle
            continue
        seen.add(site.pointer)
        yield site
        if depth < _MAX_DEPTH:
            where = site.schema_pointer
            yield from _nested(document, site.schema, where, seen, depth + 1)
            items = site.schema.get("items")
            yield from _nested(document, items, f"{where}/items", seen, depth + 1)


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each operation object under `paths`, with its pointer."""
    paths = document.get("paths") or {}
    for path, item in paths.items() if isinstance(paths, dict) else ():
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if method in _METHODS and isinstance(operation, dict):
                yield f"/paths/{escape(str(path))}/{method}", operation


_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


def request_properties(document: dict[str, Any], op_pointer: str) -> list[PropertySite]:
    """The top-level properties of an operation's JSON request body, where written."""
    operation = at(document, op_pointer)
    if not isinstance(operation, dict):
        return []
    body = deref(document, operation.get("requestBody"))
    schema, pointer = _json_schema(body, f"{op_pointer}/requestBody")
    return list(object_properties(document, schema, pointer)) if schema is not None else []


def response_statuses(document: dict[str, Any], op_pointer: str) -> list[str]:
    """The status keys an operation's `responses` declares (`200`, `4XX`, `default`)."""
    operation = at(document, op_pointer)
    responses = operation.get("responses") if isinstance(operation, dict) else None
    return [str(status) for status in responses] if isinstance(responses, dict) else []


def _body_schemas(operation: dict[str, Any], pointer: str) -> Iterator[tuple[str, Any]]:
    body = operation.get("requestBody")
    if isinstance(body, dict) and "$ref" not in body:
        schema, where = _json_schema(body, f"{pointer}/requestBody")
        if schema is not None:
            yield where, schema
    responses = operation.get("responses")
    for status, answer in responses.items() if isinstance(responses, dict) else ():
        if isinstance(answer, dict) and "$ref" not in answer:
            schema, where = _json_schema(answer, f"{pointer}/responses/{escape(str(status))}")
            if schema is not None:
                yield where, schema


def _json_schema(body: Any, pointer: str) -> tuple[Any, str]:
    """The schema of a body's JSON media type (the first `...json` one), and its pointer."""
    content = body.get("content") if isinstance(body, dict) else None
    for media, value in content.items() if isinstance(content, dict) else ():
        if "json" in str(media) and isinstance(value, dict) and "schema" in value:
            return value["schema"], f"{pointer}/content/{escape(str(media))}/schema"
    return None, pointer


# What an operation's x-backsmith declares to be served from a table conventions missed.
_DECLARING = frozenset({"resource", "kind", "link", "where", "envelope"})


def served_by_declaration(model: Model, op: Operation) -> bool:
    """Whether the operation is CRUD because its `x-backsmith` says what it works on."""
    operation = at(model.document, op.pointer)
    extension = operation.get("x-backsmith") if isinstance(operation, dict) else None
    return isinstance(extension, dict) and bool(_DECLARING & extension.keys())
