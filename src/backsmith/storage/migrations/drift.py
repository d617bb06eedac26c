"""Whether a live database matches the contract's tables: every difference, in words.

The database is reflected (SQLAlchemy's inspector) and compared with the tables the model
builds: tables, columns, types, nullability, primary keys, unique keys, indexes and
references. Types are compared as the dialect spells them in DDL, so what `serve` or a
migration would create compares equal to itself; names of keys and indexes are not
compared, only what they cover, so a database built by other means can match.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from backsmith.storage.migrations.runner import VERSION_TABLE

# How MariaDB reports types it was given under another name.
_ALIASES = {
    "mysql": {"LONGTEXT": "JSON", "TINYINT(1)": "BOOL", "BOOLEAN": "BOOL"},
}
_INTEGER_WIDTH = re.compile(r"^(SMALLINT|MEDIUMINT|INTEGER|INT|BIGINT)\(\d+\)")
_TYPE_TAIL = re.compile(r"\s+(CHARACTER SET|COLLATE)\s.*$")


def differences(conn: sa.Connection, metadata: sa.MetaData) -> list[str]:
    """Each way the database differs from `metadata`; empty when it matches."""
    inspector = sa.inspect(conn)
    dialect = conn.dialect
    present = set(inspector.get_table_names()) - {VERSION_TABLE}
    found: list[str] = []
    for name in sorted(set(metadata.tables) - present):
        found.append(f"table {name} is missing")
    for name in sorted(present - set(metadata.tables)):
        found.append(f"table {name} is in the database but not in the contract")
    for name in sorted(set(metadata.tables) & present):
        found += _table_differences(inspector, dialect, metadata.tables[name])
    return found


def _table_differences(inspector: Any, dialect: sa.Dialect, table: sa.Table) -> list[str]:
    name = table.name
    found: list[str] = []
    reflected = {c["name"]: c for c in inspector.get_columns(name)}
    for column in table.columns:
        have = reflected.get(column.name)
        where = f"{name}.{column.name}"
        if have is None:
            found.append(f"column {where} is missing")
            continue
        expected, actual = _type_text(column.type, dialect), _type_text(have["type"], dialect)
        if expected != actual:
            found.append(f"column {where} is {actual}, the contract says {expected}")
        if not column.primary_key and bool(have["nullable"]) != bool(column.nullable):
            null = "allows NULL" if have["nullable"] else "is NOT NULL"
            found.append(f"column {where} {null}, the contract says the opposite")
        found += _enum_differences(where, column.type, have["type"], dialect)
    for extra in sorted(set(reflected) - set(table.c.keys())):
        found.append(f"column {name}.{extra} is in the database but not in the contract")

    primary = inspector.get_pk_constraint(name).get("constrained_columns") or []
    expected_primary = [c.name for c in table.primary_key.columns]
    if set(primary) != set(expected_primary):  # the order is the index's, not the key's
        found.append(
            f"primary key of {name} is ({', '.join(primary)}), "
            f"the contract says ({', '.join(expected_primary)})"
        )

    indexes = inspector.get_indexes(name)
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)}
    uniques |= {tuple(i["column_names"]) for i in indexes if i.get("unique")}
    expected_uniques = {
        tuple(c.name for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, sa.UniqueConstraint)
    } | {tuple(c.name for c in index.columns) for index in table.indexes if index.unique}
    for columns in sorted(expected_uniques - uniques):
        found.append(f"unique key on {name}({', '.join(columns)}) is missing")
    for columns in sorted(uniques - expected_uniques - {tuple(expected_primary)}):
        found.append(f"unique key on {name}({', '.join(columns)}) is not in the contract")

    references = inspector.get_foreign_keys(name)
    plain = {tuple(i["column_names"]) for i in indexes if not i.get("unique")}
    expected_plain = {tuple(c.name for c in i.columns) for i in table.indexes if not i.unique}
    # MariaDB indexes every reference itself; such an index is not a difference.
    implied = {tuple(r["constrained_columns"]) for r in references}
    for columns in sorted(expected_plain - plain):
        found.append(f"index on {name}({', '.join(columns)}) is missing")
    for columns in sorted(plain - expected_plain - implied):
        found.append(f"index on {name}({', '.join(columns)}) is not in the contract")
    if dialect.name == "postgresql":
        found += _invalid_indexes(inspector, name)

    have_refs = {_reference(r, dialect) for r in references}
    want_refs = {
        (
            tuple(c.name for c in fk.columns),
            fk.referred_table.name,
            tuple(e.column.name for e in fk.elements),
            _on_delete(fk.ondelete, dialect),
        )
        for fk in table.foreign_key_constraints
    }
    for ref in sorted(want_refs - have_refs, key=str):
        found.append(f"reference {name}({', '.join(ref[0])}) -> {ref[1]} is missing{ref[3]}")
    for ref in sorted(have_refs - want_refs, key=str):
        found.append(
            f"reference {name}({', '.join(ref[0])}) -> {ref[1]}{ref[3]} is not in the contract"
        )
    return found


def _invalid_indexes(inspector: Any, table: str) -> list[str]:
    """Indexes a CONCURRENTLY build left invalid when it failed: they enforce nothing."""
    rows = inspector.bind.execute(
        sa.text(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE t.relname = :table AND NOT i.indisvalid AND pg_table_is_visible(t.oid)"
        ),
        {"table": table},
    )
    return [
        f"index {row[0]} on {table} is invalid (a build that failed); "
        "'backsmith migrate up' builds it again"
        for row in rows
    ]


def _reference(reflected: dict[str, Any], dialect: sa.Dialect) -> tuple[Any, ...]:
    ondelete = (reflected.get("options") or {}).get("ondelete")
    return (
        tuple(reflected["constrained_columns"]),
        reflected["referred_table"],
        tuple(reflected["referred_columns"]),
        _on_delete(ondelete, dialect),
    )


def _on_delete(action: str | None, dialect: sa.Dialect) -> str:
    action = (action or "").upper()
    # MariaDB's RESTRICT is its default, the same as NO ACTION, and reflects as nothing.
    plain = ("", "NO ACTION", "RESTRICT") if dialect.name == "mysql" else ("", "NO ACTION")
    return "" if action in plain else f" (on delete {action.lower()})"


def _type_text(kind: Any, dialect: sa.Dialect) -> str:
    """A type as the dialect writes it in DDL, without collation and display widths."""
    text = " ".join(kind.compile(dialect=dialect).upper().split())
    text = _TYPE_TAIL.sub("", text).replace(", ", ",")
    text = _INTEGER_WIDTH.sub(r"\1", text)
    if text == "INT":
        text = "INTEGER"
    return _ALIASES.get(dialect.name, {}).get(text, text)


def _enum_differences(where: str, expected: Any, actual: Any, dialect: sa.Dialect) -> list[str]:
    """Values of a PostgreSQL enum type (its DDL name alone does not show them)."""
    if dialect.name != "postgresql":
        return []
    wanted = getattr(expected.dialect_impl(dialect), "enums", None)
    have = getattr(actual, "enums", None)
    if wanted is None or have is None or list(wanted) == list(have):
        return []
    return [f"column {where} takes ({', '.join(have)}), the contract says ({', '.join(wanted)})"]
