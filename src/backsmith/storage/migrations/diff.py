"""The difference between two schema snapshots, as Alembic operations both ways.

Operations are data (Alembic's `ops`), rendered to revision files by `render`. Each change
becomes steps with their upgrade and downgrade and, when one can lose data or fail on
existing rows, its risk, so `plan` can refuse it without `--allow-destructive`.

Order in `upgrade()`: renamed tables, enum types, new tables (referenced ones first),
changes inside existing tables (see `alter`), dropped tables, dropped enum types.
`downgrade()` undoes it backwards. Indexes that tables already holding rows gain are a
second migration (`Migration.indexes`): PostgreSQL builds them CONCURRENTLY, outside any
transaction, and the first migration stays one transaction that fails as a whole.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops

from backsmith.storage.migrations.align import (
    Renames,
    apply_renames,
    carry_names,
    index_key,
)
from backsmith.storage.migrations.alter import Kept, PlanError, alter_table, backs_a_reference
from backsmith.storage.migrations.state import Snapshot, TableState, plain_type, table

__all__ = ["Code", "Concurrent", "Kept", "Migration", "Plan", "PlanError", "Renames", "plan"]


@dataclass(frozen=True, slots=True)
class Code:
    """Lines of Python for a migration function, where Alembic has no operation."""

    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Concurrent:
    """An index built or dropped outside the transaction (CONCURRENTLY on PostgreSQL).

    `mysql_keeps`: MariaDB keeps the index (a reference on its columns needs one).
    """

    operation: ops.CreateIndexOp | ops.DropIndexOp
    mysql_keeps: bool = False


Item = ops.MigrateOperation | Code | Concurrent | Kept


@dataclass(slots=True)
class Plan:
    """What one migration does: its steps, their risks, and both function bodies."""

    steps: list[str] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)
    upgrade: list[Item] = field(default_factory=list)
    downgrade: list[Item] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.steps


@dataclass(slots=True)
class Migration:
    """The change from one snapshot to the next: the main plan, then new indexes."""

    main: Plan
    indexes: Plan
    between: Snapshot  # the schema after `main`, before `indexes`
    after: Snapshot

    @property
    def empty(self) -> bool:
        return self.main.empty and self.indexes.empty

    @property
    def risks(self) -> list[str]:
        return [*self.main.risks, *self.indexes.risks]


def plan(old: Snapshot, new: Snapshot, renames: Renames | None = None) -> Migration:
    """The migration from the `old` schema to the `new` one."""
    old_tables, applied = apply_renames(old["tables"], new["tables"], renames or Renames())
    new_tables = carry_names(old_tables, new["tables"])
    after: Snapshot = {"tables": new_tables}
    main = Plan()
    down_tail: list[list[Item]] = []  # downgrade parts, in upgrade order; reversed at the end

    for old_name, new_name in applied.tables:
        main.steps.append(f"rename table {old_name} to {new_name}")
        main.upgrade.append(Code((f"op.rename_table({old_name!r}, {new_name!r})",)))
        down_tail.append([Code((f"op.rename_table({new_name!r}, {old_name!r})",))])

    added = [name for name in _dependency_order(new_tables) if name not in old_tables]
    dropped = [name for name in _dependency_order(old_tables) if name not in new_tables]
    old_enums, new_enums = _native_enums(old_tables), _native_enums(new_tables)
    _check_enum_values(old_enums, new_enums)

    created_enums = [name for name in sorted(new_enums) if name not in old_enums]
    if created_enums:
        main.upgrade.append(_enum_code(new_enums, created_enums, "create"))
        down_tail.append([_enum_code(new_enums, created_enums, "drop")])

    for name in added:
        main.steps.append(f"create table {name}")
        created = _built(new_tables, name)
        main.upgrade.append(ops.CreateTableOp.from_table(created))
        for index in sorted(created.indexes, key=lambda i: str(i.name)):
            main.upgrade.append(ops.CreateIndexOp.from_index(index))
        down_tail.append([ops.DropTableOp.from_table(created)])

    indexes = Plan()
    between = copy.deepcopy(after)
    for name in sorted(set(old_tables) & set(new_tables)):
        change = alter_table(
            name, old_tables[name], new_tables[name], applied.columns.get(name, []), _fill
        )
        main.steps += change.steps
        main.risks += change.risks
        main.upgrade += change.up
        if change.down:
            down_tail.append(change.down)
        gained = _gained_indexes(indexes, name, old_tables[name], new_tables[name])
        between["tables"][name]["indexes"] = [
            i for i in new_tables[name]["indexes"] if i["name"] not in gained
        ]

    for name in reversed(dropped):
        main.steps.append(f"drop table {name}")
        main.risks.append(f"drop table {name}: every row it holds is deleted")
        gone = _built(old_tables, name)
        main.upgrade.append(ops.DropTableOp.from_table(gone))
        restore: list[Item] = [ops.CreateTableOp.from_table(gone)]
        restore += [ops.CreateIndexOp.from_index(i) for i in sorted(gone.indexes, key=str)]
        down_tail.append(restore)

    dropped_enums = [name for name in sorted(old_enums) if name not in new_enums]
    if dropped_enums:
        main.upgrade.append(_enum_code(old_enums, dropped_enums, "drop"))
        down_tail.append([_enum_code(old_enums, dropped_enums, "create")])

    for part in reversed(down_tail):
        main.downgrade.extend(part)
    return Migration(main, indexes, between, after)


def _built(tables: Mapping[str, TableState], name: str) -> sa.Table:
    metadata = sa.MetaData()
    _placeholders(metadata, tables, name)
    return table(name, tables[name], metadata)


def _gained_indexes(indexes: Plan, name: str, old: TableState, new: TableState) -> set[str]:
    """Indexes a table that may hold rows gains, into the concurrent plan; their names."""
    had = {index_key(i) for i in old["indexes"]}
    gained = set()
    for index in sorted(new["indexes"], key=lambda i: i["name"]):
        if index_key(index) in had:
            continue
        gained.add(index["name"])
        columns = ", ".join(index["columns"])
        indexes.steps.append(f"create index {index['name']} on {name}({columns})")
        if index["unique"]:
            indexes.risks.append(
                f"create unique index {index['name']} on {name}({columns}): fails when rows "
                "share a value"
            )
        create = ops.CreateIndexOp(index["name"], name, index["columns"], unique=index["unique"])
        indexes.upgrade.append(Concurrent(create))
        keeps = backs_a_reference(index, new)
        indexes.downgrade.insert(0, Concurrent(ops.DropIndexOp(index["name"], name), keeps))
    return gained


def _fill(table_name: str, column_name: str, default: Mapping[str, Any]) -> Code:
    """Code giving the rows where a column is NULL its default (before NOT NULL)."""
    value = f"sa.text({default['sql']!r})" if "sql" in default else repr(default["value"])
    return Code(
        (
            f"rows = sa.table({table_name!r}, sa.column({column_name!r}))",
            f"op.execute(rows.update().where(rows.c[{column_name!r}].is_(None))"
            f".values({{{column_name!r}: {value}}}))",
        )
    )


# --------------------------------------------------------------------- enums
def _native_enums(tables: Mapping[str, TableState]) -> dict[str, list[str]]:
    """Native enum types (PostgreSQL creates them apart from tables) by name."""
    found: dict[str, list[str]] = {}
    for state in tables.values():
        for column_state in state["columns"]:
            spec = column_state["type"]
            if spec.get("type") == "array":
                spec = spec["item"]
            if spec["type"] == "enum" and spec["native"]:
                found[spec["name"]] = list(spec["values"])
    return found


def _check_enum_values(old: Mapping[str, list[str]], new: Mapping[str, list[str]]) -> None:
    for name in sorted(set(old) & set(new)):
        if old[name] != new[name]:
            raise PlanError(
                f"the values of enum {name} change ({', '.join(old[name])} -> "
                f"{', '.join(new[name])}); write that migration by hand"
            )


def _enum_code(enums: Mapping[str, list[str]], names: Iterable[str], action: str) -> Code:
    lines = ['if op.get_bind().dialect.name == "postgresql":']
    for name in names:
        values = ", ".join(repr(v) for v in enums[name])
        lines.append(
            f"    postgresql.ENUM({values}, name={name!r}).{action}(op.get_bind(), checkfirst=True)"
        )
    return Code(tuple(lines))


# ------------------------------------------------------------------ ordering
def _dependency_order(tables: Mapping[str, TableState]) -> list[str]:
    """Table names with every referenced table before the tables that refer to it."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting or name not in tables:
            return
        visiting.add(name)
        for fk in tables[name]["foreign_keys"]:
            if fk["target"] != name:
                visit(fk["target"])
        visiting.discard(name)
        order.append(name)

    for name in sorted(tables):
        visit(name)
    return order


def _placeholders(metadata: sa.MetaData, tables: Mapping[str, TableState], name: str) -> None:
    """Referenced tables' key columns, so a table's references resolve while it is built."""
    for fk in tables[name]["foreign_keys"]:
        target = tables.get(fk["target"])
        if fk["target"] in metadata.tables or fk["target"] == name or target is None:
            continue
        columns = {c["name"]: c for c in target["columns"]}
        sa.Table(
            fk["target"],
            metadata,
            *[
                sa.Column(key, plain_type(columns[key]["type"]), primary_key=True)
                for key in fk["target_columns"]
                if key in columns
            ],
        )
