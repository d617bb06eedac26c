"""Resources from DBML tables, or inferred from component schemas when there is no DBML."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from backsmith.contract.dbml import DbmlModel, DbmlTable
from backsmith.model.naming import plural, snake
from backsmith.model.references import nested_reference
from backsmith.model.schemas import (
    branch_properties,
    component_name,
    flatten,
    is_nullable,
    schema_types,
)
from backsmith.model.types import Field, FieldType, Generated, Index, Relation, Resource

CREATED_NAMES = frozenset({"created_at", "created", "inserted_at", "creation_date", "created_on"})
UPDATED_NAMES = frozenset(
    {"updated_at", "updated", "modified_at", "last_modified", "modified", "updated_on"}
)

_DBML_TYPES: dict[str, FieldType] = {
    "uuid": FieldType.UUID,
    "bool": FieldType.BOOLEAN,
    "boolean": FieldType.BOOLEAN,
    "date": FieldType.DATE,
    "json": FieldType.JSON,
    "jsonb": FieldType.JSON,
    "decimal": FieldType.DECIMAL,
    "numeric": FieldType.DECIMAL,
    "money": FieldType.DECIMAL,
    "float": FieldType.NUMBER,
    "float4": FieldType.NUMBER,
    "float8": FieldType.NUMBER,
    "double": FieldType.NUMBER,
    "double precision": FieldType.NUMBER,
    "real": FieldType.NUMBER,
    "bytea": FieldType.BINARY,
    "blob": FieldType.BINARY,
}
_INTEGER_TYPES = frozenset({"int", "integer", "int4", "smallint", "int2", "tinyint", "serial"})
_BIG_INTEGER_TYPES = frozenset({"bigint", "int8", "bigserial"})
_TIMESTAMP_PREFIXES = ("timestamp", "datetime")


def dbml_type(raw: str) -> tuple[FieldType, int | None, bool]:
    """(type, max length, big integer) for a DBML column type such as `varchar(64)`."""
    base = raw.strip().lower()
    length_match = re.search(r"\((\d+)", base)
    name = re.sub(r"\(.*\)", "", base).strip()
    if name in _INTEGER_TYPES:
        return FieldType.INTEGER, None, False
    if name in _BIG_INTEGER_TYPES:
        return FieldType.INTEGER, None, True
    if name.startswith(_TIMESTAMP_PREFIXES):
        return FieldType.DATETIME, None, False
    if name in _DBML_TYPES:
        return _DBML_TYPES[name], None, False
    is_text = name in {"varchar", "char", "character varying", "character", "string", "nvarchar"}
    return FieldType.STRING, int(length_match.group(1)) if length_match and is_text else None, False


def schema_field_type(document: dict[str, Any], prop: Any) -> tuple[FieldType, FieldType | None]:
    """(type, item type for arrays) of an OpenAPI property schema."""
    schema = flatten(document, prop)
    types = schema_types(schema) - {"null"}
    fmt = schema.get("format")
    if "enum" in schema and types <= {"string"}:
        return FieldType.ENUM, None
    if types == {"string"}:
        return {
            "uuid": FieldType.UUID,
            "date-time": FieldType.DATETIME,
            "date": FieldType.DATE,
            "decimal": FieldType.DECIMAL,
            "binary": FieldType.BINARY,
        }.get(str(fmt), FieldType.STRING), None
    if types == {"integer"}:
        return FieldType.INTEGER, None
    if types == {"number"}:
        return (FieldType.DECIMAL if fmt == "decimal" else FieldType.NUMBER), None
    if types == {"boolean"}:
        return FieldType.BOOLEAN, None
    if types == {"array"}:
        item_type, _ = schema_field_type(document, schema.get("items", {}))
        scalar = item_type not in (FieldType.JSON, FieldType.ARRAY, FieldType.BINARY)
        return (FieldType.ARRAY, item_type) if scalar else (FieldType.JSON, None)
    return FieldType.JSON, None


def table_name_for(schema_name: str) -> str:
    """`OrderLine` -> `order_lines`; a name that is already plural (`Tasks`) stays."""
    name = snake(schema_name)
    return name if name.endswith("s") and not name.endswith("ss") else plural(name)


def _generated(name: str, ftype: FieldType, primary: bool) -> Generated | None:
    if primary and ftype in (FieldType.UUID, FieldType.STRING):
        return Generated.UUID7
    if primary and ftype == FieldType.INTEGER:
        return Generated.AUTOINCREMENT
    if ftype == FieldType.DATETIME and snake(name) in CREATED_NAMES:
        return Generated.CREATED
    if ftype == FieldType.DATETIME and snake(name) in UPDATED_NAMES:
        return Generated.UPDATED
    return None


def declared_column(prop: Any) -> str | None:
    """`x-backsmith: {column: ...}` on a property schema."""
    return _extension_text(prop, "column")


def _extension_text(holder: Any, key: str) -> str | None:
    ext = holder.get("x-backsmith") if isinstance(holder, dict) else None
    value = ext.get(key) if isinstance(ext, dict) else None
    return value if isinstance(value, str) else None


# A DBML note that carries an earlier name: `note: 'renamed-from: old_name'`.
_RENAMED_NOTE = re.compile(r"renamed[-_ ]from:\s*([A-Za-z_][\w]*)")


def _renamed_from(note: str, holder: Any) -> str | None:
    """The earlier name a DBML note or an `x-backsmith: {renamed-from: ...}` declares."""
    found = _RENAMED_NOTE.search(note or "")
    return found.group(1) if found else _extension_text(holder, "renamed-from")


def _relation_property(
    document: dict[str, Any], name: str, prop: Any, table_schemas: frozenset[str], names: set[str]
) -> bool:
    """A property that holds other table rows (embedded), not a column of its own."""
    ext = prop.get("x-backsmith") if isinstance(prop, dict) else None
    if isinstance(ext, dict) and any(k in ext for k in ("embed", "count", "exists", "sum")):
        return True
    flat = flatten(document, prop)
    if "array" in schema_types(flat):
        return component_name(flat.get("items")) in table_schemas
    if component_name(prop) in table_schemas:
        return f"{snake(name)}_id" in names  # author next to author_id
    return False


def resource_from_schema(
    document: dict[str, Any],
    schema_name: str,
    table: str,
    resource_name: str,
    tables_by_schema: Mapping[str, str] | None = None,
) -> Resource:
    """Infer a table from a component schema (see `resource_from_object`)."""
    named = {"$ref": f"#/components/schemas/{schema_name}"}
    holder = document["components"]["schemas"][schema_name]
    resource = resource_from_object(document, named, table, resource_name, tables_by_schema)
    return replace(resource, schema=schema_name, renamed_from=_renamed_from("", holder))


def resource_from_object(
    document: dict[str, Any],
    named: Any,
    table: str,
    resource_name: str,
    tables_by_schema: Mapping[str, str] | None = None,
) -> Resource:
    """Infer a table from an object schema, a component's or one written inline: scalars
    become columns, the rest JSON.

    Properties that hold rows of other tables (`author` beside `authorId`, `lines: [Line]`)
    are relations, served by embedding, not columns; one holding a single row with no
    column of its own (`author: {$ref: Author}` alone) is stored as a foreign key,
    `author_id` (`tables_by_schema`: the table of each schema stored as one).
    """
    schema = flatten(document, named)
    all_properties: dict[str, Any] = branch_properties(document, named)
    names = {snake(n) for n in all_properties}
    tables_by_schema = tables_by_schema or {}
    table_schemas = frozenset(tables_by_schema)
    references = [
        found
        for name, prop in all_properties.items()
        if (found := nested_reference(document, name, prop, tables_by_schema, names))
    ]
    properties = {
        name: prop
        for name, prop in all_properties.items()
        if not _relation_property(document, name, prop, table_schemas, names)
        and name not in {r.name for r in references}
    }
    required = set(schema.get("required", []))
    key_name = "id" if "id" in properties else None
    if key_name is None:  # `_id`, `ID`: the property stored as column `id` is the key
        stored_as_id = (
            n for n, p in properties.items() if (declared_column(p) or snake(n)) == "id"
        )
        key_name = next(stored_as_id, None)
    fields: list[Field] = []
    if key_name is None:
        fields.append(
            Field(
                "id",
                "id",
                FieldType.INTEGER,
                False,
                True,
                True,
                Generated.AUTOINCREMENT,
                hidden=True,
            )
        )
    for name, prop in properties.items():
        prop_schema = flatten(document, prop)
        ftype, item_type = schema_field_type(document, prop)
        primary = name == key_name
        fmt = prop_schema.get("format")
        nullable = is_nullable(prop_schema) or (
            name not in required and "default" not in prop_schema
        )
        fields.append(
            Field(
                name=name,
                column=declared_column(prop) or snake(name),
                type=ftype,
                nullable=False if primary else nullable,
                primary_key=primary,
                unique=primary,
                generated=_generated(name, ftype, primary),
                read_only=bool(prop_schema.get("readOnly")),
                write_only=bool(prop_schema.get("writeOnly")),
                max_length=prop_schema.get("maxLength") if ftype == FieldType.STRING else None,
                big=fmt == "int64",
                enum=tuple(str(v) for v in prop_schema.get("enum", []) if v is not None)
                if ftype == FieldType.ENUM
                else (),
                item_type=item_type,
                default=prop_schema.get("default"),
                renamed_from=_renamed_from("", prop),
            )
        )
    for reference in references:
        prop_schema = flatten(document, all_properties[reference.name])
        nullable = is_nullable(prop_schema) or reference.name not in required
        fields.append(
            Field(reference.column, reference.column, reference.type, nullable, big=reference.big)
        )
    return Resource(
        name=resource_name,
        table=table,
        fields=tuple(fields),
        primary_key=("id",),  # the key's column: `id`, or the `_id` or `ID` stored as `id`
        relations=tuple(Relation((r.column,), r.target, (r.target_key,)) for r in references),
        source="schema",
        renamed_from=_renamed_from("", named),
    )


def resource_from_dbml(
    document: dict[str, Any],
    dbml: DbmlModel,
    table: DbmlTable,
    schema_name: str | None,
    resource_name: str,
) -> Resource:
    """A resource over a DBML table; API names and readOnly flags come from its schema."""
    properties: dict[str, Any] = {}
    schema_holder: Any = None
    if schema_name is not None:
        schema = flatten(document, {"$ref": f"#/components/schemas/{schema_name}"})
        properties = schema.get("properties", {})
        schema_holder = (document.get("components") or {}).get("schemas", {}).get(schema_name)
    by_column = {snake(name): name for name in properties}
    by_column.update({name: name for name in properties})
    for name, prop in properties.items():
        stored_in = declared_column(prop)
        if stored_in:
            by_column[stored_in] = name
    primary = [c.name for c in table.columns if c.primary_key]
    primary += [c for i in table.indexes if i.primary_key for c in i.columns if c not in primary]
    fields: list[Field] = []
    for column in table.columns:
        ftype, length, big = dbml_type(column.type)
        item_type = None
        pg_array = False
        if column.type.endswith("[]"):
            item_type, _, _ = dbml_type(column.type[:-2])
            ftype, pg_array = FieldType.ARRAY, True
        enum: tuple[str, ...] = ()
        if column.enum is not None:
            ftype, enum = FieldType.ENUM, dbml.enums.get(column.enum, ())
        api_name = by_column.get(column.name, column.name)
        prop = flatten(document, properties.get(api_name, {}))
        if ftype == FieldType.STRING and prop.get("enum") and not enum:
            enum = tuple(str(v) for v in prop["enum"] if v is not None)
        is_primary = column.name in primary
        generated = _generated(column.name, ftype, is_primary and len(primary) == 1)
        if is_primary and len(primary) == 1 and ftype == FieldType.INTEGER and not column.increment:
            generated = Generated.AUTOINCREMENT if not _client_key(prop) else None
        fields.append(
            Field(
                name=api_name,
                column=column.name,
                type=ftype,
                nullable=not column.not_null and not is_primary,
                primary_key=is_primary,
                unique=column.unique,
                generated=generated,
                read_only=bool(prop.get("readOnly")) or generated is not None,
                write_only=bool(prop.get("writeOnly")),
                max_length=length or prop.get("maxLength"),
                big=big,
                enum=enum,
                enum_name=column.enum,
                item_type=item_type,
                pg_array=pg_array,
                default=prop.get("default")
                if column.default_is_sql or column.default is None
                else column.default,
                sql_default=column.default if column.default_is_sql else None,
                renamed_from=_renamed_from(column.note, properties.get(api_name)),
            )
        )
    relations = tuple(
        Relation(ref.columns, ref.ref_table, ref.ref_columns, ref.on_delete)
        for ref in dbml.refs
        if ref.table == table.name
    )
    indexes = tuple(
        Index(index.columns, index.unique, index.name)
        for index in table.indexes
        if not index.primary_key
    )
    return Resource(
        name=resource_name,
        table=table.name,
        fields=tuple(fields),
        primary_key=tuple(primary) or ("id",),
        schema=schema_name,
        relations=relations,
        indexes=indexes,
        checks=table.checks,
        source="dbml",
        renamed_from=_renamed_from(table.note, schema_holder),
    )


def derived_columns(resource: Resource) -> tuple[tuple[str, str], ...]:
    """(column, source column) pairs filled on create by convention, not by declaration:
    the slug an item path names, made from the title (see path_columns.py)."""
    return tuple((f.column, f.derived_from) for f in resource.fields if f.derived_from)


def _client_key(prop: dict[str, Any]) -> bool:
    """An integer key the schema lets clients write (declared, not readOnly)."""
    return bool(prop) and not prop.get("readOnly")


def infer_relations(
    resources: dict[str, Resource], document: dict[str, Any]
) -> dict[str, Resource]:
    """Without DBML, `author_id` next to an `authors` resource is a reference to it."""
    by_singular = {}
    for resource in resources.values():
        by_singular[snake(resource.name).removesuffix("s")] = resource
        by_singular[re.sub(r"ies$", "y", snake(resource.name))] = resource
    result = {}
    for name, resource in resources.items():
        if resource.source != "schema":
            result[name] = resource
            continue
        relations = list(resource.relations)  # those read from nested objects
        related = {c for r in relations for c in r.columns}
        for field in resource.fields:
            stem = field.column.removesuffix("_id")
            target = by_singular.get(stem) if field.column.endswith("_id") else None
            if field.column in related or target is None or field.primary_key:
                continue
            if target.key.type == field.type:
                relations.append(Relation((field.column,), target.table, (target.key.column,)))
        result[name] = _replace(resource, relations=tuple(relations))
    return result


def _replace(resource: Resource, **changes: Any) -> Resource:

    return replace(resource, **changes)
