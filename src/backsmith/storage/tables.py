"""Model -> SQLAlchemy Core tables, one type mapping for SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from backsmith.model.types import Field, FieldType, Model, Resource

_ON_DELETE = {"cascade": "CASCADE", "restrict": "RESTRICT", "set null": "SET NULL"}
_ON_DELETE.update({"set default": "SET DEFAULT", "no action": "NO ACTION"})


class UtcDateTime(sa.TypeDecorator[object]):
    """Timestamps stored in UTC (timestamptz on PostgreSQL); returned timezone-aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: object, dialect: sa.Dialect) -> object:
        # SQLite keeps the wall-clock text and drops the offset: store the UTC instant.
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: object, dialect: sa.Dialect) -> object:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def column_type(field: Field, table: str) -> sa.types.TypeEngine[object]:
    """The SQL type of a field."""
    kind = field.type
    if kind == FieldType.UUID:
        return sa.Uuid(as_uuid=True)
    if kind == FieldType.INTEGER:
        return sa.BigInteger().with_variant(sa.Integer(), "sqlite") if field.big else sa.Integer()
    if kind == FieldType.NUMBER:
        return sa.Double()
    if kind == FieldType.DECIMAL:
        return sa.Numeric(asdecimal=True)
    if kind == FieldType.BOOLEAN:
        return sa.Boolean()
    if kind == FieldType.DATETIME:
        return UtcDateTime()
    if kind == FieldType.DATE:
        return sa.Date()
    if kind == FieldType.ENUM:
        return sa.Enum(
            *field.enum,
            name=field.enum_name or f"{table}_{field.column}",
            native_enum=field.enum_name is not None,
            create_constraint=False,
            validate_strings=False,
        )
    if kind == FieldType.ARRAY and field.pg_array:
        item = column_type(
            Field(field.name, field.column, field.item_type or FieldType.STRING), table
        )
        return sa.JSON().with_variant(postgresql.ARRAY(item), "postgresql")
    if kind in (FieldType.JSON, FieldType.ARRAY):
        return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    if kind == FieldType.BINARY:
        return sa.LargeBinary()
    return sa.String(field.max_length) if field.max_length else sa.Text()


def build_table(resource: Resource, metadata: sa.MetaData) -> sa.Table:
    columns = []
    for field in resource.fields:
        args: list[object] = [column_type(field, resource.table)]
        autoincrement: bool | str = "auto"
        if field.primary_key and field.type == FieldType.INTEGER and field.generated is None:
            autoincrement = False
        kwargs: dict[str, object] = {
            "primary_key": field.primary_key,
            "nullable": field.nullable and not field.primary_key,
            "unique": field.unique and not field.primary_key,
            "autoincrement": autoincrement,
        }
        if field.sql_default is not None and field.sql_default in _PORTABLE_DEFAULTS:
            kwargs["server_default"] = sa.text(_PORTABLE_DEFAULTS[field.sql_default])
        columns.append(sa.Column(field.column, *args, **kwargs))
    constraints = [
        sa.ForeignKeyConstraint(
            list(relation.columns),
            [f"{relation.target}.{column}" for column in relation.target_columns],
            ondelete=_ON_DELETE.get((relation.on_delete or "").lower()),
        )
        for relation in resource.relations
    ]
    table = sa.Table(resource.table, metadata, *columns, *constraints)
    for index in resource.indexes:
        name = index.name or f"ix_{resource.table}_{'_'.join(index.columns)}"
        sa.Index(name, *[table.c[c] for c in index.columns if c in table.c], unique=index.unique)
    return table


# SQL defaults from DBML that mean the same on every dialect backsmith serves.
_PORTABLE_DEFAULTS = {"now()": "CURRENT_TIMESTAMP", "current_timestamp": "CURRENT_TIMESTAMP"}


def build_metadata(model: Model) -> sa.MetaData:
    """One MetaData with a table per resource; references to unknown tables are dropped."""
    metadata = sa.MetaData()
    known = {r.table for r in model.resources.values()}
    for resource in sorted(model.resources.values(), key=lambda r: r.table):
        relations = tuple(r for r in resource.relations if r.target in known)
        build_table(replace(resource, relations=relations), metadata)
    return metadata
