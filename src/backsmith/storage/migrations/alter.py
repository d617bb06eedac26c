"""The changes inside one table both snapshots have, as Alembic operations both ways.

Renames are plain ALTERs (SQLite's RENAME COLUMN also rewrites the references to the
column); every other column, key and reference change runs in one batch, so SQLite
rebuilds a table at most once. Indexes that go are dropped before the
rebuild; new ones are built afterwards (see `diff`), concurrently on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alembic.operations import ops

from backsmith.errors import InputError
from backsmith.storage.columns import narrows, sql_default
from backsmith.storage.migrations.align import index_key, reference_key, unique_key
from backsmith.storage.migrations.state import TableState, column, plain_type

Column = dict[str, Any]


class PlanError(InputError):
    """A change this version cannot turn into a migration by itself."""


@dataclass(slots=True)
class TableChange:
    """What one table's change adds to the plan: steps, risks, and both directions."""

    steps: list[str] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)
    up: list[Any] = field(default_factory=list)
    down: list[Any] = field(default_factory=list)  # in the order it runs


def alter_table(
    name: str,
    old: TableState,
    new: TableState,
    renamed: list[tuple[str, str]],
    fill: Any,
) -> TableChange:
    """`old` -> `new` for table `name`; `renamed` (old, new) columns already under new names
    in `old`. `fill(table, column, default)` is the code that gives NULL rows the default.
    """
    change = TableChange()
    if set(old["primary_key"]) != set(new["primary_key"]):
        raise PlanError(
            f"the primary key of {name} changes ({', '.join(old['primary_key'])} -> "
            f"{', '.join(new['primary_key'])}); write that migration by hand"
        )
    old_columns: dict[str, Column] = {c["name"]: c for c in old["columns"]}
    new_columns: dict[str, Column] = {c["name"]: c for c in new["columns"]}
    primary = old["primary_key"]
    renames_up = [
        _rename(name, before, after, old_columns[after], primary) for before, after in renamed
    ]
    renames_down = [
        _rename(name, after, before, old_columns[after], primary) for before, after in renamed
    ]
    for before, after in renamed:
        change.steps.append(f"rename column {name}.{before} to {after}")

    up: list[Any] = []
    down: list[Any] = []
    added = [c for c in new_columns if c not in old_columns]
    dropped = [c for c in old_columns if c not in new_columns]
    for column_name in added:
        state = new_columns[column_name]
        change.steps.append(f"add column {name}.{column_name}")
        if not state["nullable"] and state.get("default") is None:
            change.risks.append(
                f"add column {name}.{column_name}: NOT NULL without a default fails "
                "when the table has rows"
            )
        up.append(ops.AddColumnOp(name, column(state)))
    before_batch: list[Any] = []
    for column_name, state in new_columns.items():
        if column_name in old_columns:
            found = _alter_column(
                change, name, column_name, old_columns[column_name], state, new["primary_key"]
            )
            if found is not None:
                forward, backward, needs_fill = found
                up.append(forward)
                down.append(backward)
                if needs_fill:
                    before_batch.append(fill(name, column_name, state["default"]))

    old_refs = {reference_key(fk): fk for fk in old["foreign_keys"]}
    new_refs = {reference_key(fk): fk for fk in new["foreign_keys"]}
    old_uniques = {unique_key(u): u for u in old["unique"]}
    new_uniques = {unique_key(u): u for u in new["unique"]}
    gone_refs = [fk for key, fk in old_refs.items() if key not in new_refs]
    new_only_refs = [fk for key, fk in new_refs.items() if key not in old_refs]
    gone_uniques = [u for key, u in old_uniques.items() if key not in new_uniques]
    new_only_uniques = [u for key, u in new_uniques.items() if key not in old_uniques]
    for fk in gone_refs:
        change.steps.append(f"drop reference {name}({', '.join(fk['columns'])})")
        up.append(ops.DropConstraintOp(fk["name"], name, "foreignkey"))
    for unique in gone_uniques:
        change.steps.append(f"drop unique key {name}({', '.join(unique['columns'])})")
        up.append(ops.DropConstraintOp(unique["name"], name, "unique"))
    for unique in new_only_uniques:
        change.steps.append(f"add unique key {name}({', '.join(unique['columns'])})")
        change.risks.append(
            f"add unique key {name}({', '.join(unique['columns'])}): fails when rows share a value"
        )
        up.append(ops.CreateUniqueConstraintOp(unique["name"], name, unique["columns"]))
    for fk in new_only_refs:
        change.steps.append(
            f"add reference {name}({', '.join(fk['columns'])}) -> {fk['target']}"
            + (f" on delete {fk['ondelete'].lower()}" if fk["ondelete"] else "")
        )
        up.append(_create_fk(name, fk))
    for column_name in dropped:
        change.steps.append(f"drop column {name}.{column_name}")
        change.risks.append(f"drop column {name}.{column_name}: its values are deleted")
        up.append(ops.DropColumnOp(name, column_name))

    # The way back, mirrored: put back what was dropped, then undo what was added.
    back: list[Any] = [ops.AddColumnOp(name, column(old_columns[c])) for c in dropped]
    back += [ops.DropConstraintOp(fk["name"], name, "foreignkey") for fk in new_only_refs]
    back += [ops.DropConstraintOp(u["name"], name, "unique") for u in new_only_uniques]
    back += [ops.CreateUniqueConstraintOp(u["name"], name, u["columns"]) for u in gone_uniques]
    back += [_create_fk(name, fk) for fk in gone_refs]
    back += down
    back += [ops.DropColumnOp(name, c) for c in added]

    # Indexes that go, or whose columns change, are dropped before the rebuild.
    new_indexes = {index_key(i) for i in new["indexes"]}
    drops: list[Any] = []
    restores: list[Any] = []
    for index in sorted(old["indexes"], key=lambda i: i["name"]):
        if index_key(index) in new_indexes:
            continue
        change.steps.append(f"drop index {index['name']} on {name}")
        drop: Any = ops.DropIndexOp(index["name"], name)
        create: Any = ops.CreateIndexOp(
            index["name"], name, index["columns"], unique=index["unique"]
        )
        if backs_a_reference(index, old, new):
            drop, create = Kept(drop), Kept(create)
        drops.append(drop)
        restores.append(create)

    change.up = [*drops]
    # Renames are plain ALTERs, never a batch rebuild: SQLite's RENAME COLUMN also updates
    # the references other tables make to the column, which a rebuild would leave stale.
    change.up += renames_up
    change.up += before_batch
    if up:
        change.up.append(ops.ModifyTableOps(name, up))
    if back:
        change.down.append(ops.ModifyTableOps(name, back))
    change.down += restores  # under the new column names, so before renaming them back
    change.down += renames_down
    return change


@dataclass(frozen=True, slots=True)
class Kept:
    """An index operation skipped on MariaDB, which keeps the index a reference needs."""

    operation: ops.DropIndexOp | ops.CreateIndexOp


def backs_a_reference(index: dict[str, Any], *states: TableState) -> bool:
    """Whether MariaDB would use this index for a reference (its leading columns)."""
    columns = index["columns"]
    return any(
        fk["columns"] == columns[: len(fk["columns"])]
        for state in states
        for fk in state["foreign_keys"]
    )


def _existing_default(state: Column) -> Any:
    """A column's default as Alembic's `existing_server_default` wants it (False: none)."""
    spec = state.get("default")
    return sql_default(spec) if spec is not None else False


class Numbered:
    """`autoincrement=` of an altered key the database numbers, as the file spells it.

    MariaDB alters a column by restating all of it, so its AUTO_INCREMENT must be said
    again; other databases keep the numbering and warn when told of it. The revision file
    defines `_numbered()`, which answers True on MariaDB only.
    """

    def __repr__(self) -> str:
        return "_numbered()"


def _counting(state: Column, primary: list[str]) -> Numbered | None:
    """Whether the column is a key the database numbers (None: leave it as it is)."""
    numbered = state.get("autoincrement") and state["type"]["type"] in ("integer", "bigint")
    return Numbered() if numbered and primary == [state["name"]] else None


def _rename(
    table_name: str, old: str, new: str, state: Column, primary: list[str]
) -> ops.AlterColumnOp:
    # MariaDB renames with CHANGE COLUMN, which restates the whole column, numbering too.
    return ops.AlterColumnOp(
        table_name,
        old,
        modify_name=new,
        existing_type=plain_type(state["type"]),
        existing_nullable=state["nullable"],
        existing_server_default=_existing_default(state),
        autoincrement=_counting(state, primary),
    )


def _alter_column(
    change: TableChange,
    table_name: str,
    column_name: str,
    old: Column,
    new: Column,
    primary: list[str],
) -> tuple[ops.AlterColumnOp, ops.AlterColumnOp, bool] | None:
    """Both directions of one column's change, and whether NULL rows get its default first."""
    changes: dict[str, Any] = {}
    undo: dict[str, Any] = {}
    needs_fill = False
    where = f"{table_name}.{column_name}"
    if old["type"] != new["type"]:
        change.steps.append(f"change type of {where}")
        if narrows(old["type"], new["type"]):
            change.risks.append(f"change type of {where}: {_narrowing(old['type'], new['type'])}")
        changes["modify_type"] = plain_type(new["type"])
        undo["modify_type"] = plain_type(old["type"])
    if old["nullable"] != new["nullable"]:
        if new["nullable"]:
            change.steps.append(f"allow NULL in {where}")
        elif new.get("default") is not None:
            change.steps.append(f"make {where} NOT NULL, giving NULL rows its default")
            needs_fill = True
        else:
            change.steps.append(f"make {where} NOT NULL")
            change.risks.append(f"make {where} NOT NULL: fails if a row holds NULL")
        changes["modify_nullable"] = new["nullable"]
        undo["modify_nullable"] = old["nullable"]
    if old.get("default") != new.get("default"):
        change.steps.append(f"change default of {where}")
        changes["modify_server_default"] = sql_default(new.get("default"))
        undo["modify_server_default"] = sql_default(old.get("default"))
    if not changes:
        return None
    existing = {
        "existing_type": plain_type(old["type"]),
        "existing_nullable": old["nullable"],
        "existing_server_default": _existing_default(old),
        "autoincrement": _counting(old, primary),
    }
    back = {
        "existing_type": plain_type(new["type"]),
        "existing_nullable": new["nullable"],
        "existing_server_default": _existing_default(new),
        "autoincrement": _counting(new, primary),
    }
    return (
        ops.AlterColumnOp(table_name, column_name, **existing, **changes),
        ops.AlterColumnOp(table_name, column_name, **back, **undo),
        needs_fill,
    )


def _narrowing(old: dict[str, Any], new: dict[str, Any]) -> str:
    if new["type"] == old["type"] == "text":
        return "MariaDB keeps an indexed text column to 255 characters; longer values fail"
    return "values that do not fit are refused"


def _create_fk(name: str, fk: dict[str, Any]) -> ops.CreateForeignKeyOp:
    return ops.CreateForeignKeyOp(
        fk["name"],
        name,
        fk["target"],
        fk["columns"],
        fk["target_columns"],
        ondelete=fk["ondelete"],
    )
