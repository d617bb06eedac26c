"""Model -> SQLAlchemy Core tables, one type mapping for SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from backsmith.model.types import FieldType, Model, Resource
from backsmith.storage.columns import (
    UtcDateTime,
    describe_default,
    describe_field,
    sql_default,
    sql_type,
)
from backsmith.storage.system_tables import system_tables

_ON_DELETE = {"cascade": "CASCADE", "restrict": "RESTRICT", "set null": "SET NULL"}
_ON_DELETE.update({"set default": "SET DEFAULT", "no action": "NO ACTION"})

__all__ = ["UtcDateTime", "build_metadata", "build_table", "constraint_name"]

# PostgreSQL cuts names at 63 bytes and MariaDB refuses more than 64.
_MAX_NAME = 63


def constraint_name(prefix: str, table: str, columns: Sequence[str], target: str = "") -> str:
    """The name of a key, index or reference: the same on every dialect, so a migration can
    drop what an earlier one created (`uq_books_isbn`, `fk_books_author_id_authors`)."""
    name = "_".join([prefix, table, *columns, *([target] if target else [])])
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.blake2s(name.encode(), digest_size=4).hexdigest()
    return f"{name[: _MAX_NAME - 9]}_{digest}"


def _keyed_columns(resource: Resource) -> set[str]:
    """Columns in a key, an index or a reference (MariaDB indexes only bounded text)."""
    keyed = set(resource.primary_key)
    keyed |= {f.column for f in resource.fields if f.unique}
    keyed |= {c for index in resource.indexes for c in index.columns}
    keyed |= {c for relation in resource.relations for c in relation.columns}
    return keyed


def build_table(resource: Resource, metadata: sa.MetaData) -> sa.Table:
    keyed = _keyed_columns(resource)
    columns = []
    for field in resource.fields:
        spec = describe_field(field, resource.table, field.column in keyed)
        autoincrement: bool | str = "auto"
        if field.primary_key and field.type == FieldType.INTEGER and field.generated is None:
            autoincrement = False
        kwargs: dict[str, Any] = {
            "primary_key": field.primary_key,
            "nullable": field.nullable and not field.primary_key,
            "autoincrement": autoincrement,
        }
        default = describe_default(field)
        if default is not None:
            kwargs["server_default"] = sql_default(default)
        # The descriptions travel with the column: migrations snapshot and compare them.
        kwargs["info"] = {"type": spec, "default": default}
        columns.append(sa.Column(field.column, sql_type(spec), **kwargs))
    name = resource.table
    # In the order the contract declares the key, which is the order of its index.
    fields = [f.column for f in resource.fields if f.primary_key]
    primary = [c for c in resource.primary_key if c in fields] or fields
    constraints: list[sa.Constraint] = [
        sa.PrimaryKeyConstraint(*primary, name=constraint_name("pk", name, ()))
    ]
    constraints += [
        sa.UniqueConstraint(f.column, name=constraint_name("uq", name, (f.column,)))
        for f in resource.fields
        if f.unique and not f.primary_key
    ]
    constraints += [
        sa.ForeignKeyConstraint(
            list(relation.columns),
            [f"{relation.target}.{column}" for column in relation.target_columns],
            ondelete=_ON_DELETE.get((relation.on_delete or "").lower()),
            name=constraint_name("fk", name, relation.columns, relation.target),
        )
        for relation in resource.relations
    ]
    table = sa.Table(name, metadata, *columns, *constraints)
    for index in resource.indexes:
        columns_named = [c for c in index.columns if c in table.c]
        index_name = index.name or constraint_name("ix", name, columns_named)
        sa.Index(index_name, *[table.c[c] for c in columns_named], unique=index.unique)
    return table


def build_metadata(model: Model) -> sa.MetaData:
    """One MetaData with the system tables the model needs and a table per resource;
    references to unknown tables are dropped."""
    metadata = sa.MetaData()
    for system in system_tables(model):
        build_table(system.resource, metadata)
    known = {r.table for r in model.resources.values()}
    for resource in sorted(model.resources.values(), key=lambda r: r.table):
        relations = tuple(r for r in resource.relations if r.target in known)
        build_table(replace(resource, relations=relations), metadata)
    return metadata
