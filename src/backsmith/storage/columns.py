"""Column types: a small portable vocabulary, and the SQLAlchemy type each means per dialect.

A field's type is first described in plain data (`{"type": "string", "length": 64}`), which
is what migration snapshots store and compare; `sql_type` turns a description into the
SQLAlchemy type that creates and serves the column on SQLite, PostgreSQL and MariaDB.
Keeping the mapping in one place means the tables `serve` creates and the ones migrations
create are the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from backsmith.model.types import Field, FieldType

TypeSpec = dict[str, Any]

_MYSQL = ("mysql", "mariadb")
# MariaDB cannot index TEXT without a prefix length: a text column in a key is a VARCHAR.
KEY_TEXT_LENGTH = 255


class UtcDateTime(sa.TypeDecorator[object]):
    """Timestamps stored in UTC (timestamptz on PostgreSQL); returned timezone-aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in _MYSQL:  # DATETIME keeps whole seconds unless told otherwise
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: object, dialect: sa.Dialect) -> object:
        # SQLite keeps the wall-clock text and drops the offset: store the UTC instant.
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: object, dialect: sa.Dialect) -> object:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def answer_columns(table: sa.Table | sa.CTE) -> list[sa.ColumnElement[Any]]:
    """The table's columns (or a write's, in a CTE), each date-time and UUID selected as
    PostgreSQL's text of it.

    The driver hands the text over as it comes and the answer is cut from it
    (`backsmith.http.shaping`), at half the cost of decoding it into a datetime and writing
    that out again; the database writes the same text either way. A UUID's text is what
    the connection's codec made of it too, by a Python call per value. Only for rows that
    go straight into an answer, on PostgreSQL.
    """
    return [
        sa.cast(c, sa.Text).label(c.name) if _zoned(c) or isinstance(c.type, sa.Uuid) else c
        for c in table.c
    ]


def _zoned(column: sa.ColumnElement[Any]) -> bool:
    kind = column.type
    return isinstance(kind, UtcDateTime) or (isinstance(kind, sa.DateTime) and bool(kind.timezone))


def describe_field(field: Field, table: str, keyed: bool = False) -> TypeSpec:
    """The portable description of a field's column type.

    `keyed`: the column is part of a key, an index or a reference (see KEY_TEXT_LENGTH).
    """
    kind = field.type
    if kind == FieldType.UUID:
        return {"type": "uuid"}
    if kind == FieldType.INTEGER:
        return {"type": "bigint" if field.big else "integer"}
    if kind == FieldType.NUMBER:
        return {"type": "double"}
    if kind == FieldType.DECIMAL:
        return {"type": "decimal"}
    if kind == FieldType.BOOLEAN:
        return {"type": "boolean"}
    if kind == FieldType.DATETIME:
        return {"type": "timestamp"}
    if kind == FieldType.DATE:
        return {"type": "date"}
    if kind == FieldType.ENUM:
        native = field.enum_name is not None
        name = field.enum_name or f"{table}_{field.column}"
        return {"type": "enum", "values": list(field.enum), "name": name, "native": native}
    if kind == FieldType.ARRAY and field.pg_array:
        item = Field(field.name, field.column, field.item_type or FieldType.STRING)
        return {"type": "array", "item": describe_field(item, table)}
    if kind in (FieldType.JSON, FieldType.ARRAY):
        return {"type": "json"}
    if kind == FieldType.BINARY:
        return {"type": "binary"}
    if field.max_length:
        return {"type": "string", "length": field.max_length}
    return {"type": "text", "keyed": True} if keyed else {"type": "text"}


def sql_type(spec: TypeSpec, serving: bool = True) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type a description means.

    `serving`: with the value processors requests need (UTC timestamps); without them the
    type is plain SQLAlchemy, as migration files spell it.
    """
    name = spec["type"]
    if name == "uuid":
        return sa.Uuid(as_uuid=True)
    if name == "integer":
        return sa.Integer()
    if name == "bigint":
        # SQLite makes only an INTEGER PRIMARY KEY an alias of the rowid (autoincrement).
        return sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    if name == "double":
        return sa.Double()
    if name == "decimal":
        # MariaDB's DECIMAL alone is DECIMAL(10, 0): it would drop every fraction.
        return sa.Numeric(asdecimal=True).with_variant(mysql.DECIMAL(38, 10), *_MYSQL)
    if name == "boolean":
        return sa.Boolean()
    if name == "timestamp":
        if serving:
            return UtcDateTime()
        return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), *_MYSQL)
    if name == "date":
        return sa.Date()
    if name == "enum":
        return sa.Enum(
            *spec["values"],
            name=spec["name"],
            native_enum=spec["native"],
            create_constraint=False,
            validate_strings=False,
        )
    if name == "array":
        return sa.JSON().with_variant(postgresql.ARRAY(sql_type(spec["item"])), "postgresql")
    if name == "json":
        return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    if name == "binary":
        return sa.LargeBinary()
    if name == "string":
        return sa.String(spec["length"])
    if name == "text":
        if spec.get("keyed"):
            return sa.Text().with_variant(sa.String(KEY_TEXT_LENGTH), *_MYSQL)
        return sa.Text()
    raise ValueError(f"unknown column type {spec!r}")


def describe_default(field: Field) -> TypeSpec | None:
    """The default the database applies itself, where it means the same everywhere.

    `{"sql": "CURRENT_TIMESTAMP"}` for an SQL expression, `{"value": 0}` for a literal.
    """
    if field.primary_key:
        return None
    if field.sql_default is not None:
        portable = _PORTABLE_DEFAULTS.get(field.sql_default.lower())
        return {"sql": portable} if portable else None
    value, kind = field.default, field.type
    if isinstance(value, bool):
        return {"value": value} if kind == FieldType.BOOLEAN else None
    if isinstance(value, int | float) and kind in _NUMBERS:
        return {"value": value}
    if isinstance(value, str) and kind in (FieldType.STRING, FieldType.ENUM):
        return {"value": value}
    return None  # objects, arrays and the rest are filled in by the server on create


# SQL defaults from DBML that mean the same on every dialect backsmith serves.
_PORTABLE_DEFAULTS = {"now()": "CURRENT_TIMESTAMP", "current_timestamp": "CURRENT_TIMESTAMP"}
_NUMBERS = (FieldType.INTEGER, FieldType.NUMBER, FieldType.DECIMAL)


def sql_default(spec: TypeSpec | None) -> Any:
    """The `server_default` of a described default."""
    if spec is None:
        return None
    if "sql" in spec:
        return sa.text(spec["sql"])
    value = spec["value"]
    if isinstance(value, bool):  # the keywords every dialect here reads (SQLite stores 1/0)
        return sa.text("true" if value else "false")
    if isinstance(value, int | float):
        return sa.text(repr(value))
    return str(value)


def narrows(old: TypeSpec, new: TypeSpec) -> bool:
    """Whether changing a column from `old` to `new` can lose or refuse values it holds."""
    if old == new:
        return False
    widening = {
        ("integer", "bigint"),
        ("integer", "double"),
        ("integer", "decimal"),
        ("string", "text"),
    }
    if (old["type"], new["type"]) in widening:
        return False
    if old["type"] == new["type"] == "string":
        return bool(new["length"] < old["length"])
    if old["type"] == new["type"] == "text":  # only whether it is keyed changed
        return bool(new.get("keyed")) and not old.get("keyed")  # MariaDB: VARCHAR(255)
    if old["type"] == new["type"] == "enum":
        return not set(old["values"]) <= set(new["values"])
    return True
