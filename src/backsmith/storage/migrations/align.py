"""Before two snapshots are compared: declared renames applied, and names carried over.

A renamed table or column is the same object under a new name: the old snapshot is
rewritten as if it had always used the new names, so the rename is one step and its keys,
references and indexes are not dropped and made again. Keys, references and indexes are
matched by what they cover, not by name; one that stays keeps the name the database
gave it, so a later migration drops it by the name it really has.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backsmith.storage.migrations.state import TableState

Tables = dict[str, TableState]


@dataclass(frozen=True, slots=True)
class Renames:
    """Earlier names the contract declares (`x-backsmith: {renamed-from: ...}`)."""

    tables: Mapping[str, str] = field(default_factory=dict)  # new -> old
    columns: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (table, new) -> old


@dataclass(slots=True)
class Applied:
    """The renames that apply: the old snapshot has the old name and not the new one."""

    tables: list[tuple[str, str]] = field(default_factory=list)  # (old, new)
    columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # table -> (old, new)


def apply_renames(old: Tables, new: Tables, renames: Renames) -> tuple[Tables, Applied]:
    """The old tables under their new names, and which renames that took."""
    tables = copy.deepcopy(old)
    applied = Applied()
    table_map: dict[str, str] = {}
    for new_name, old_name in sorted(renames.tables.items()):
        if old_name in tables and new_name not in tables and new_name in new:
            tables[new_name] = tables.pop(old_name)
            table_map[old_name] = new_name
            applied.tables.append((old_name, new_name))
    column_map: dict[str, dict[str, str]] = {}
    for (table_name, new_column), old_column in sorted(renames.columns.items()):
        state = tables.get(table_name)
        if state is None or table_name not in new:
            continue
        names = [c["name"] for c in state["columns"]]
        if old_column in names and new_column not in names:
            column_map.setdefault(table_name, {})[old_column] = new_column
            applied.columns.setdefault(table_name, []).append((old_column, new_column))
    for table_name, state in tables.items():
        own = column_map.get(table_name, {})
        for column in state["columns"]:
            column["name"] = own.get(column["name"], column["name"])
        state["primary_key"] = [own.get(c, c) for c in state["primary_key"]]
        for unique in state["unique"]:
            unique["columns"] = [own.get(c, c) for c in unique["columns"]]
        for index in state["indexes"]:
            index["columns"] = [own.get(c, c) for c in index["columns"]]
        for fk in state["foreign_keys"]:
            fk["columns"] = [own.get(c, c) for c in fk["columns"]]
            fk["target"] = table_map.get(fk["target"], fk["target"])
            theirs = column_map.get(fk["target"], {})
            fk["target_columns"] = [theirs.get(c, c) for c in fk["target_columns"]]
    return tables, applied


def unique_key(unique: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(unique["columns"])


def reference_key(fk: Mapping[str, Any]) -> tuple[Any, ...]:
    return (tuple(fk["columns"]), fk["target"], tuple(fk["target_columns"]), fk["ondelete"])


def index_key(index: Mapping[str, Any]) -> tuple[Any, ...]:
    return (tuple(index["columns"]), bool(index["unique"]))


def carry_names(old: Tables, new: Tables) -> Tables:
    """`new` with the names of the keys, references and indexes `old` already has."""
    aligned = copy.deepcopy(new)
    for name, state in aligned.items():
        before = old.get(name)
        if before is None:
            continue
        for part, key in (
            ("unique", unique_key),
            ("foreign_keys", reference_key),
            ("indexes", index_key),
        ):
            names = {key(item): item["name"] for item in before[part]}
            for item in state[part]:
                item["name"] = names.get(key(item), item["name"])
    return aligned
