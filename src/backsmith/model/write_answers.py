"""Write answers that carry the row inside an object of its own: `{resource: {id, url}, status}`.

Some contracts answer a create (or a replace, an update, a delete) with a reference to the
row rather than the row: one object property that holds the row's key, beside scalars that
say how the call went. The object is filled from the row like a wrapper (`{"book": {...}}`),
and each scalar beside it from its schema: its `const`, its only `enum` value, its
`default` or its example; an integer `status` or `code` with no fixed value is the HTTP
status answered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backsmith.model.envelopes import ResponseShape
from backsmith.model.naming import snake
from backsmith.model.schemas import component_name, flatten, schema_types
from backsmith.model.types import Envelope, Resource

_STATUS_CODES = frozenset({"status", "status_code", "code", "http_status", "http_code"})
_STATUS_NAMES = _STATUS_CODES | {"success", "ok", "message", "msg"}
_SCALARS = frozenset({"string", "integer", "number", "boolean"})
_NONE = object()


def wrapped_row(
    document: dict[str, Any],
    shape: ResponseShape,
    resource: Resource,
    status: int,
    row_table: Callable[[str, Any], str | None],
) -> ResponseShape | None:
    """The answer as a wrapper around the row, when the row's key sits one object down.

    Only when the answer's own properties do not hold the key, none of them is a column of
    the row but for a status, and exactly one object property holds the key;
    `row_table(name, schema)` tells the table an object is a row of, by its schema or its
    name: another table's row (a created order's `customer`) never counts.
    """
    if shape.is_list or shape.envelope.wrapper or shape.envelope.items:
        return None
    properties = flatten(document, shape.item_schema).get("properties") or {}
    if not properties or _holds_key(document, shape.item_schema, resource):
        return None
    holders = [
        key
        for key, value in properties.items()
        if _holds_key(document, value, resource) and row_table(key, value) in (None, resource.table)
    ]
    if len(holders) != 1:
        return None
    key = holders[0]
    if any(resource.field(n) and snake(n) not in _STATUS_NAMES for n in properties if n != key):
        return None  # the row itself, its key left out, beside an embedded object
    constants = []
    for name, value in properties.items():
        fixed = _fixed(name, flatten(document, value), status) if name != key else _NONE
        if fixed is not _NONE:
            constants.append((name, fixed))
    inner = properties[key]
    envelope = Envelope(wrapper=key, constants=tuple(constants))
    return ResponseShape(inner, envelope, False, component_name(inner))


def _holds_key(document: dict[str, Any], schema: Any, resource: Resource) -> bool:
    key = resource.key.column
    for name in flatten(document, schema).get("properties") or {}:
        field = resource.field(name)
        if field is not None and field.column == key:
            return True
    return False


def _fixed(name: str, schema: dict[str, Any], status: int) -> Any:
    """The value a scalar beside the row is answered with; _NONE when the schema has none."""
    types = schema_types(schema) - {"null"}
    if not types or not types <= _SCALARS:
        return _NONE
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and len(enum) == 1:
        return enum[0]
    if "integer" in types and snake(name) in _STATUS_CODES:
        return status  # the example says 200 for every write; the answer says what happened
    if "default" in schema:
        return schema["default"]
    if "example" in schema:
        return schema["example"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    return _NONE
