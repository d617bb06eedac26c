"""The difference between two schema snapshots, as Alembic operations both ways.

Operations are data (Alembic's `ops`), rendered to a revision file by `render`. Each change
becomes one step with its upgrade and downgrade and, when it can lose data or fail on
existing rows, the risk, so `plan` can refuse it without `--allow-destructive`.

Order in `upgrade()`: renamed tables, enum types, new tables (referenced ones first),
changes inside existing tables (one batch per table, so SQLite rebuilds each at most
once), dropped tables, dropped enum types, and last the indexes on existing tables, which
PostgreSQL builds CONCURRENTLY outside the transaction. `downgrade()` undoes it backwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops

from backsmith.errors import InputError
from backsmith.storage.columns import narrows, sql_default
from backsmith.storage.migrations.state import (
    Snapshot,
    TableState,
    column,
    foreign_key_name,
    plain_type,
    table,
)
from backsmith.storage.tables import constraint_name


class PlanError(InputError):
    """A change this version cannot turn into a migration by itself."""


@dataclass(frozen=True, slots=True)
class Code:
    """Lines of Python for a migration function, where Alembic has no operation."""

    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Concurrent:
    """An index built or dropped outside the transaction (CONCURRENTLY on PostgreSQL)."""

    operation: ops.CreateIndexOp | ops.DropIndexOp


Item = ops.MigrateOperation | Code | Concurrent


@dataclass(slots=True)
class Plan:
    """What a migration does: its steps, their risks, and both function bodies."""

    steps: list[str] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)
    upgrade: list[Item] = field(default_factory=list)
    downgrade: list[Item] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.steps


@dataclass(frozen=True, slots=True)
class Renames:
    """Earlier names the contract declares (`x-backsmith: {renamed-from: ...}`)."""

    tables: Mapping[str, str] = field(default_factory=dict)  # new -> old
    columns: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (table, new) -> old


def plan(old: Snapshot, new: Snapshot, renames: Renames | None = None) -> Plan:
    """The migration from the `old` schema to the `new` one."""
    renames = renames or Renames()
    result = Plan()
    old_tables = dict(old["tables"])
    new_tables = new["tables"]
    down_tail: list[list[Item]] = []  # downgrade parts, in upgrade order; reversed at the end

    for new_name, old_name in sorted(renames.tables.items()):
        if old_name in old_tables and new_name not in old_tables and new_name in new_tables:
            old_tables[new_name] = old_tables.pop(old_name)
            result.steps.append(f"rename table {old_name} to {new_name}")
            result.upgrade.append(ops.RenameTableOp(old_name, new_name))
            down_tail.append([ops.RenameTableOp(new_name, old_name)])

    added = [name for name in _dependency_order(new_tables) if name not in old_tables]
    dropped = [name for name in _dependency_order(old_tables) if name not in new_tables]
    old_enums, new_enums = _native_enums(old_tables), _native_enums(new_tables)
    _check_enum_values(old_enums, new_enums)

    created_enums = [name for name in sorted(new_enums) if name not in old_enums]
    if created_enums:
        result.upgrade.append(_enum_code(new_enums, created_enums, "create"))
        down_tail.append([_enum_code(new_enums, created_enums, "drop")])

    for name in added:
        state = new_tables[name]
        result.steps.append(f"create table {name}")
        metadata = sa.MetaData()
        _placeholders(metadata, new_tables, name)
        created = table(name, state, metadata)
        result.upgrade.append(ops.CreateTableOp.from_table(created))
        for index in sorted(created.indexes, key=lambda i: str(i.name)):
            result.upgrade.append(ops.CreateIndexOp.from_index(index))
        down_tail.append([ops.DropTableOp.from_table(created)])

    later_indexes: list[tuple[Item, Item]] = []
    for name in sorted(set(old_tables) & set(new_tables)):
        _alter_table(result, name, old_tables[name], new_tables[name], renames, down_tail)
        later_indexes += _new_indexes(result, name, old_tables[name], new_tables[name])

    for name in reversed(dropped):
        state = old_tables[name]
        result.steps.append(f"drop table {name}")
        result.risks.append(f"drop table {name}: every row it holds is deleted")
        metadata = sa.MetaData()
        _placeholders(metadata, old_tables, name)
        gone = table(name, state, metadata)
        result.upgrade.append(ops.DropTableOp.from_table(gone))
        restore: list[Item] = [ops.CreateTableOp.from_table(gone)]
        restore += [ops.CreateIndexOp.from_index(i) for i in sorted(gone.indexes, key=str)]
        down_tail.append(restore)

    dropped_enums = [name for name in sorted(old_enums) if name not in new_enums]
    if dropped_enums:
        result.upgrade.append(_enum_code(old_enums, dropped_enums, "drop"))
        down_tail.append([_enum_code(old_enums, dropped_enums, "create")])

    for create, drop in later_indexes:
        result.upgrade.append(create)
        down_tail.append([drop])

    for part in reversed(down_tail):
        result.downgrade.extend(part)
    return result


# ----------------------------------------------------------------- one table
def _alter_table(
    result: Plan,
    name: str,
    old: TableState,
    new: TableState,
    renames: Renames,
    down_tail: list[list[Item]],
) -> None:
    """Column, key and reference changes of a table both snapshots have, as one batch."""
    if old["primary_key"] != new["primary_key"]:
        raise PlanError(
            f"the primary key of {name} changes ({', '.join(old['primary_key'])} -> "
            f"{', '.join(new['primary_key'])}); write that migration by hand"
        )
    old_columns = {c["name"]: c for c in old["columns"]}
    new_columns = {c["name"]: c for c in new["columns"]}
    renamed: dict[str, str] = {}  # new -> old
    for column_name in new_columns:
        earlier = renames.columns.get((name, column_name))
        if earlier in old_columns and column_name not in old_columns:
            renamed[column_name] = earlier
    kept_old = {renamed.get(c, c): c for c in new_columns}  # old name -> new name

    up: list[ops.MigrateOperation] = []
    down: list[ops.MigrateOperation] = []
    dropped_fks = [fk for fk in old["foreign_keys"] if fk not in new["foreign_keys"]]
    added_fks = [fk for fk in new["foreign_keys"] if fk not in old["foreign_keys"]]
    dropped_uniques = [u for u in old["unique"] if u not in new["unique"]]
    added_uniques = [u for u in new["unique"] if u not in old["unique"]]

    for new_name, old_name in sorted(renamed.items()):
        result.steps.append(f"rename column {name}.{old_name} to {new_name}")
        up.append(_rename(name, old_name, new_name, old_columns[old_name]))
    for column_name, state in new_columns.items():
        if column_name in old_columns or column_name in renamed:
            continue
        result.steps.append(f"add column {name}.{column_name}")
        if not state["nullable"] and state.get("default") is None:
            result.risks.append(
                f"add column {name}.{column_name}: NOT NULL without a default fails "
                "when the table has rows"
            )
        up.append(ops.AddColumnOp(name, column(state)))
    for column_name, state in new_columns.items():
        earlier = old_columns.get(renamed.get(column_name, column_name))
        if earlier is not None:
            _alter_column(result, name, column_name, earlier, state, up, down)
    for fk in dropped_fks:
        result.steps.append(f"drop reference {name}({', '.join(fk['columns'])})")
        up.append(ops.DropConstraintOp(foreign_key_name(name, fk), name, "foreignkey"))
    for columns in dropped_uniques:
        result.steps.append(f"drop unique key {name}({', '.join(columns)})")
        up.append(ops.DropConstraintOp(constraint_name("uq", name, columns), name, "unique"))
    for columns in added_uniques:
        result.steps.append(f"add unique key {name}({', '.join(columns)})")
        up.append(ops.CreateUniqueConstraintOp(constraint_name("uq", name, columns), name, columns))
    for fk in added_fks:
        result.steps.append(
            f"add reference {name}({', '.join(fk['columns'])}) -> {fk['target']}"
            + (f" on delete {fk['ondelete'].lower()}" if fk["ondelete"] else "")
        )
        up.append(_create_fk(name, fk))
    dropped_columns = [c for c in old_columns if c not in kept_old]
    for column_name in dropped_columns:
        result.steps.append(f"drop column {name}.{column_name}")
        result.risks.append(f"drop column {name}.{column_name}: its values are deleted")
        up.append(ops.DropColumnOp(name, column_name))

    # The way back, mirrored: put back what was dropped, then undo what was added.
    for column_name in dropped_columns:
        down.append(ops.AddColumnOp(name, column(old_columns[column_name])))
    for fk in added_fks:
        down.append(ops.DropConstraintOp(foreign_key_name(name, fk), name, "foreignkey"))
    for columns in added_uniques:
        down.append(ops.DropConstraintOp(constraint_name("uq", name, columns), name, "unique"))
    for columns in dropped_uniques:
        down.append(
            ops.CreateUniqueConstraintOp(constraint_name("uq", name, columns), name, columns)
        )
    for fk in dropped_fks:
        down.append(_create_fk(name, fk))
    for column_name in new_columns:
        if column_name not in old_columns and column_name not in renamed:
            down.append(ops.DropColumnOp(name, column_name))
    for new_name, old_name in sorted(renamed.items()):
        down.append(_rename(name, new_name, old_name, old_columns[old_name]))

    # Indexes that go, or whose columns change, are dropped before the batch rebuilds the
    # table; indexes that come are built after it (`_new_indexes`).
    old_indexes = {i["name"]: i for i in old["indexes"]}
    new_indexes = {i["name"]: i for i in new["indexes"]}
    removed = [i for n, i in sorted(old_indexes.items()) if new_indexes.get(n) != i]
    before: list[Item] = []
    after_down: list[Item] = []
    for index in removed:
        result.steps.append(f"drop index {index['name']} on {name}")
        before.append(ops.DropIndexOp(index["name"], name))
        after_down.append(
            ops.CreateIndexOp(index["name"], name, index["columns"], unique=index["unique"])
        )
    result.upgrade.extend(before)
    if up:
        result.upgrade.append(ops.ModifyTableOps(name, up))
    if down or after_down:
        part: list[Item] = []
        if down:
            part.append(ops.ModifyTableOps(name, down))
        part.extend(after_down)
        down_tail.append(part)


def _existing_default(state: dict[str, Any]) -> Any:
    """A column's default as Alembic's `existing_server_default` wants it (False: none)."""
    spec = state.get("default")
    return sql_default(spec) if spec is not None else False


def _rename(table_name: str, old: str, new: str, state: dict[str, Any]) -> ops.AlterColumnOp:
    # MariaDB renames with CHANGE COLUMN, which restates the whole column.
    return ops.AlterColumnOp(
        table_name,
        old,
        modify_name=new,
        existing_type=plain_type(state["type"]),
        existing_nullable=state["nullable"],
        existing_server_default=_existing_default(state),
    )


def _alter_column(
    result: Plan,
    table_name: str,
    column_name: str,
    old: dict[str, Any],
    new: dict[str, Any],
    up: list[ops.MigrateOperation],
    down: list[ops.MigrateOperation],
) -> None:
    changes: dict[str, Any] = {}
    undo: dict[str, Any] = {}
    where = f"{table_name}.{column_name}"
    if old["type"] != new["type"]:
        result.steps.append(f"change type of {where}")
        if narrows(old["type"], new["type"]):
            result.risks.append(f"change type of {where}: values that do not fit are refused")
        changes["modify_type"] = plain_type(new["type"])
        undo["modify_type"] = plain_type(old["type"])
    if old["nullable"] != new["nullable"]:
        if new["nullable"]:
            result.steps.append(f"allow NULL in {where}")
        else:
            result.steps.append(f"make {where} NOT NULL")
            if new.get("default") is None:
                result.risks.append(f"make {where} NOT NULL: fails if a row holds NULL")
        changes["modify_nullable"] = new["nullable"]
        undo["modify_nullable"] = old["nullable"]
    if old.get("default") != new.get("default"):
        result.steps.append(f"change default of {where}")
        changes["modify_server_default"] = sql_default(new.get("default"))
        undo["modify_server_default"] = sql_default(old.get("default"))
    if not changes:
        return
    existing = {
        "existing_type": plain_type(old["type"]),
        "existing_nullable": old["nullable"],
        "existing_server_default": _existing_default(old),
    }
    up.append(ops.AlterColumnOp(table_name, column_name, **existing, **changes))
    back = {
        "existing_type": plain_type(new["type"]),
        "existing_nullable": new["nullable"],
        "existing_server_default": _existing_default(new),
    }
    down.append(ops.AlterColumnOp(table_name, column_name, **back, **undo))


def _new_indexes(
    result: Plan, name: str, old: TableState, new: TableState
) -> list[tuple[Item, Item]]:
    """Indexes a table that already has rows gains: built concurrently on PostgreSQL."""
    old_indexes = {i["name"]: i for i in old["indexes"]}
    found: list[tuple[Item, Item]] = []
    for index in sorted(new["indexes"], key=lambda i: i["name"]):
        if old_indexes.get(index["name"]) == index:
            continue
        result.steps.append(
            f"create index {index['name']} on {name}({', '.join(index['columns'])})"
        )
        create = ops.CreateIndexOp(index["name"], name, index["columns"], unique=index["unique"])
        drop = ops.DropIndexOp(index["name"], name)
        found.append((Concurrent(create), Concurrent(drop)))
    return found


def _create_fk(name: str, fk: dict[str, Any]) -> ops.CreateForeignKeyOp:
    return ops.CreateForeignKeyOp(
        foreign_key_name(name, fk),
        name,
        fk["target"],
        fk["columns"],
        fk["target_columns"],
        ondelete=fk["ondelete"],
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
