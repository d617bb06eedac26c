"""Foreign keys read from nested objects, for contracts whose tables come from their schemas.

Without DBML, a property holding another resource's row is the usual way a contract says
"this row refers to that one": `author: {$ref: Author}` beside the book's own columns, or
`vault: {type: object, properties: {id: ...}}` when `vaults` is a resource. Each becomes a
foreign key column (`author_id`, `vault_id`) with a reference to the target's key; the
property itself is then served by embedding the referenced row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backsmith.model.kinds import FieldType
from backsmith.model.naming import names_match, snake
from backsmith.model.schemas import COMPONENT_PREFIX, component_name, flatten, schema_types


@dataclass(frozen=True, slots=True)
class NestedReference:
    """A property holding one row of `target`: the foreign key column it is stored as."""

    name: str
    column: str
    target: str  # table
    target_key: str  # the column the key refers to
    type: FieldType
    big: bool = False


def nested_reference(
    document: dict[str, Any],
    name: str,
    prop: Any,
    tables_by_schema: Mapping[str, str],
    names: set[str],
) -> NestedReference | None:
    """The reference a property stands for, or None when it holds a value of its own.

    `tables_by_schema` maps each schema stored as a table to its table. A property is a
    reference when it is one object (not an array) that is such a schema, or an inline
    object with an `id` under a name that names one of those tables; and the row has no
    column of that name yet (`author` beside `author_id` is embedded, nothing more).
    """
    column = f"{snake(name)}_id"
    flat = flatten(document, prop)
    if column in names or "array" in schema_types(flat) or not flat.get("properties"):
        return None
    schema = component_name(prop)
    table = tables_by_schema.get(schema) if schema is not None else None
    properties: dict[str, Any] = flat["properties"]
    if table is None:
        if schema is not None or "id" not in properties:
            return None
        tables = sorted({t for t in tables_by_schema.values() if names_match(name, t)})
        if len(tables) != 1:
            return None
        table = tables[0]
        owner = next(s for s, t in tables_by_schema.items() if t == table)
        properties = flatten(document, {"$ref": COMPONENT_PREFIX + owner}).get("properties") or {}
    key = flatten(document, properties["id"]) if "id" in properties else None
    kind, big = FieldType.INTEGER, False  # a schema without `id` gets an integer key
    if key is not None:
        types = schema_types(key) - {"null"}
        if types == {"integer"}:
            big = key.get("format") == "int64"
        elif types == {"string"}:
            kind = FieldType.UUID if key.get("format") == "uuid" else FieldType.STRING
        else:
            return None
    return NestedReference(name, column, table, "id", kind, big)
