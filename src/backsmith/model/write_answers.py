"""Write answers that carry the row inside an object of its own: `{resource: {id, url}, status}`.

Some contracts answer a create (or a replace, an update, a delete) with a reference to the
row rather than the row: one object property that holds the row's key, beside scalars that
say how the call went. The object is filled from the row like a wrapper (`{"book": {...}}`),
and each scalar beside it from its schema (see model.fixed_members).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backsmith.model.envelopes import ResponseShape
from backsmith.model.fixed_members import NO_VALUE, STATUS_NAMES, fixed_value
from backsmith.model.naming import snake
from backsmith.model.schemas import component_name, flatten
from backsmith.model.types import Envelope, Resource


def wrapped_row(
    document: dict[str, Any],
    shape: ResponseShape,
    resource: Resource,
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
    if any(resource.field(n) and snake(n) not in STATUS_NAMES for n in properties if n != key):
        return None  # the row itself, its key left out, beside an embedded object
    constants = []
    for name, value in properties.items():
        fixed = fixed_value(name, flatten(document, value)) if name != key else NO_VALUE
        if fixed is not NO_VALUE:
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
