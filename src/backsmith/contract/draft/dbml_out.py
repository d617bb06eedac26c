"""Write the drafted resources as a DBML model: a table each, typed columns, references.

Columns are the snake_case names of the row's properties; a `customerId` or `customer_id`
refers to `customers` when the draft has that resource; a resource nested under another
(`/conversations/{id}/messages`) refers to it by that column, added when no example shows
one.
"""

from __future__ import annotations

import hashlib
import re

from backsmith.contract.draft.resources import Resource
from backsmith.contract.draft.schemas import Schema
from backsmith.model.naming import snake

_FORMATS = {"date-time": "timestamp", "date": "date", "uuid": "uuid"}
_TYPES = {"integer": "integer", "number": "double", "boolean": "boolean"}


def column_type(schema: Schema) -> str:
    """The DBML type of a property's schema."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind in _TYPES:
        return _TYPES[kind]
    if kind in ("object", "array") or "$ref" in schema or kind is None:
        return "json"
    if schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    if isinstance(schema.get("maxLength"), int):
        return f"varchar({schema['maxLength']})"
    return "text"


_COLUMN = re.compile(r"[a-z_][a-z0-9_]*")


def column_of(prop: str, schema: Schema) -> str:
    """The column a property is stored in: the one it declares, else its snake_case name."""
    declared = (schema.get("x-backsmith") or {}).get("column")
    return declared if isinstance(declared, str) else snake(prop)


def with_columns(properties: dict[str, Schema], guesses: list[str]) -> dict[str, Schema]:
    """The properties, each with a column of its own: a name with no snake_case form
    (`상품명`) declares `field_<digest of the name>`; a second property of one column
    (`createdAt` beside `created_at`) is left out; both are guesses."""
    taken: set[str] = set()
    kept: dict[str, Schema] = {}
    for prop, schema in properties.items():
        column = snake(prop)
        if not _COLUMN.fullmatch(column):  # the same name for the same member everywhere
            column = f"field_{hashlib.sha1(prop.encode()).hexdigest()[:8]}"
            schema = {**schema, "x-backsmith": {"column": column}}
            guesses.append(f"{prop}: stored as column {column} (its name has no column form)")
        if column in taken:
            guesses.append(f"{prop}: left out, column {column} already holds another member")
            continue
        taken.add(column)
        kept[prop] = schema
    return kept


def _key_type(schema: Schema) -> str:
    """A key column: numbered by the database, a UUID the server makes, or given."""
    if schema.get("type") == "integer":
        return "integer [pk, increment]"
    return "uuid [pk]" if schema.get("format") == "uuid" else "text [pk]"


def references(resource: Resource, by_name: dict[str, Resource], schema: Schema) -> dict[str, str]:
    """column -> `table.column` each property naming another resource refers to."""
    found: dict[str, str] = {}
    for prop in schema.get("properties") or {}:
        column = snake(prop)
        if not column.endswith("_id") or column == snake(resource.key):
            continue
        target = by_name.get(column[: -len("_id")])
        if target is not None and target is not resource:
            found[column] = f"{target.table}.{snake(target.key)}"
    return found


def dbml_of(resources: list[Resource], schemas: dict[str, Schema]) -> str:
    """The DBML text of the drafted resources."""
    by_name = {resource.name: resource for resource in resources}
    blocks: list[str] = []
    refs: list[str] = []
    for resource in resources:
        schema = schemas[resource.schema]
        properties = schema.get("properties") or {}
        lines = [f"Table {resource.table} {{"]
        linked = references(resource, by_name, schema)
        for prop, prop_schema in properties.items():
            column = column_of(prop, prop_schema)
            if prop == resource.key:
                kind = _key_type(prop_schema)
                lines.append(f"  {column} {kind}")
                continue
            if column in linked:
                target = by_name[column[: -len("_id")]]
                key_schema = schemas[target.schema]["properties"][target.key]
                lines.append(f"  {column} {column_type(key_schema)}")
                refs.append(f"Ref: {resource.table}.{column} > {linked[column]}")
                continue
            lines.append(f"  {column} {column_type(prop_schema)}")
        parent = f"{resource.parent}_id" if resource.parent else ""
        if parent and parent not in {snake(p) for p in properties}:
            target = by_name[resource.parent]
            key_schema = schemas[target.schema]["properties"][target.key]
            lines.append(f"  {parent} {column_type(key_schema)}")
            refs.append(f"Ref: {resource.table}.{parent} > {target.table}.{snake(target.key)}")
        lines.append("}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks + (["\n".join(refs)] if refs else [])) + "\n"
