"""The schema a revision leaves, as plain data: what the next plan is the difference from.

Every migration file ends with the snapshot of the schema after it (`SCHEMA = {...}`), so
planning needs neither a database nor a replay of the chain, and the same contract always
plans the same file. Types are the portable descriptions of `storage.columns`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from backsmith.storage.columns import sql_default, sql_type
from backsmith.storage.tables import constraint_name

Snapshot = dict[str, Any]
TableState = dict[str, Any]
EMPTY: Snapshot = {"tables": {}}


def snapshot(metadata: sa.MetaData) -> Snapshot:
    """The schema of tables built by `storage.tables`, as JSON-ready data."""
    return {"tables": {name: _table(table) for name, table in sorted(metadata.tables.items())}}


def _table(table: sa.Table) -> TableState:
    columns = []
    for column in table.columns:
        info = column.info
        if "type" not in info:
            raise ValueError(f"column {table.name}.{column.name} has no type description")
        state: dict[str, Any] = {
            "name": column.name,
            "type": info["type"],
            "nullable": bool(column.nullable),
        }
        if info.get("default") is not None:
            state["default"] = info["default"]
        if column.primary_key:
            state["autoincrement"] = column.autoincrement is not False
        columns.append(state)
    unique = sorted(
        (
            {"name": str(constraint.name), "columns": [c.name for c in constraint.columns]}
            for constraint in table.constraints
            if isinstance(constraint, sa.UniqueConstraint)
        ),
        key=lambda unique: list(unique["columns"]),
    )
    indexes = sorted(
        (
            {
                "name": str(index.name),
                "columns": [c.name for c in index.columns],
                "unique": bool(index.unique),
            }
            for index in table.indexes
        ),
        key=lambda index: str(index["name"]),
    )
    foreign_keys = sorted(
        (
            {
                "name": str(fk.name),
                "columns": [c.name for c in fk.columns],
                "target": fk.referred_table.name,
                "target_columns": [e.column.name for e in fk.elements],
                "ondelete": fk.ondelete,
            }
            for fk in table.foreign_key_constraints
        ),
        key=lambda fk: (fk["columns"], fk["target"]),
    )
    return {
        "columns": columns,
        "primary_key": [c.name for c in table.primary_key.columns],
        "unique": unique,
        "indexes": indexes,
        "foreign_keys": foreign_keys,
    }


def plain_type(spec: dict[str, Any]) -> sa.types.TypeEngine[Any]:
    """The type a migration file spells, carrying its description for rendering."""
    kind = sql_type(spec, serving=False)
    kind._backsmith_spec = spec  # type: ignore[attr-defined]
    return kind


def column(state: dict[str, Any], primary: bool = False) -> sa.Column[Any]:
    """A column as a migration file creates it (plain SQLAlchemy types)."""
    options: dict[str, Any] = {"nullable": state["nullable"]}
    if state.get("default") is not None:
        options["server_default"] = sql_default(state["default"])
    if primary:
        options["primary_key"] = True
        options["autoincrement"] = "auto" if state.get("autoincrement", True) else False
    return sa.Column(state["name"], plain_type(state["type"]), **options)


def table(name: str, state: TableState, metadata: sa.MetaData) -> sa.Table:
    """A table as a migration file creates it, with every key, reference and index named."""
    primary = state["primary_key"]
    parts: list[Any] = [column(c, c["name"] in primary) for c in state["columns"]]
    if primary:
        parts.append(sa.PrimaryKeyConstraint(*primary, name=constraint_name("pk", name, ())))
    parts += [sa.UniqueConstraint(*u["columns"], name=u["name"]) for u in state["unique"]]
    parts += [
        sa.ForeignKeyConstraint(
            fk["columns"],
            [f"{fk['target']}.{c}" for c in fk["target_columns"]],
            ondelete=fk["ondelete"],
            name=fk["name"],
        )
        for fk in state["foreign_keys"]
    ]
    built = sa.Table(name, metadata, *parts)
    for index in state["indexes"]:
        sa.Index(index["name"], *[built.c[c] for c in index["columns"]], unique=index["unique"])
    return built


def restore(state: Snapshot) -> sa.MetaData:
    """The tables of a snapshot (referenced tables must be in it too)."""
    metadata = sa.MetaData()
    for name, table_state in state["tables"].items():
        table(name, table_state, metadata)
    return metadata
