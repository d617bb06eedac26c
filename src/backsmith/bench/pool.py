"""Rows the requests address: read from the scratch database, or from the list operations'
answers of a running service. Either way a row is a mapping of column to value."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from backsmith.model.types import Kind, Model, Operation, ParamLocation, ParamRole, Resource

ROWS_KEPT = 200  # per table: enough to spread reads over, few enough to build quickly
PARENTS_TRIED = 20  # parents a nested list is read under, at most


@dataclass(slots=True)
class RowPool:
    """Stored rows by table, each keyed by column."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def of(self, table: str) -> list[dict[str, Any]]:
        return self.rows.get(table, [])

    def having(self, table: str, columns: list[str]) -> list[dict[str, Any]]:
        """Rows of `table` with a value in every one of `columns`."""
        return [row for row in self.of(table) if all(row.get(c) is not None for c in columns)]


def from_database(model: Model, url: str) -> RowPool:
    """Up to ROWS_KEPT rows of every table, in primary-key order."""
    import sqlalchemy as sa

    from backsmith.storage.migrations.runner import on_connection
    from backsmith.storage.tables import build_metadata

    tables = build_metadata(model).tables

    def work(conn: sa.Connection) -> RowPool:
        pool = RowPool()
        for resource in model.resources.values():
            table = tables.get(resource.table)
            if table is None:
                continue
            order = [table.c[c] for c in resource.primary_key if c in table.c]
            query = sa.select(table).order_by(*order).limit(ROWS_KEPT)
            pool.rows[resource.table] = [dict(row._mapping) for row in conn.execute(query)]
        return pool

    return asyncio.run(on_connection(url, work))


def from_lists(model: Model, fetch: Callable[[Operation, str], Any]) -> RowPool:
    """Rows read through the list operations: `fetch(op, path)` GETs a path, returns its JSON.

    Lists addressed by a parent (/orders/{orderId}/lines) are read once a parent's rows
    are known; each item is keyed back to columns through the resource's fields.
    """
    pool = RowPool()
    lists = [op for op in model.operations if op.kind == Kind.LIST and op.resource]
    lists.sort(key=lambda op: sum(p.location == ParamLocation.PATH for p in op.params))
    for op in lists:
        resource = model.resources.get(op.resource or "")
        if resource is None:
            continue
        # A nested list is read under several parents: the first may have no children.
        for path, scope in _parent_values(resource, op, pool)[:PARENTS_TRIED]:
            if len(pool.of(resource.table)) >= ROWS_KEPT:
                break
            try:
                answer = fetch(op, path + _limit_query(op))
            except Exception:  # a list that fails leaves its rows unknown; reads say so later
                continue
            for item in list_items(op, answer):
                row = {**row_of(resource, item), **scope}
                pool.rows.setdefault(resource.table, []).append(row)
    return pool


def _parent_values(
    resource: Resource, op: Operation, pool: RowPool
) -> list[tuple[str, dict[str, Any]]]:
    """The list's path with its parent filled from each known row, and the scope columns."""
    path = op.base_path + op.path
    scoped = [p for p in op.params if p.location == ParamLocation.PATH]
    if not scoped:
        return [(path, {})]
    if len(scoped) != 1 or scoped[0].role != ParamRole.SCOPE or not scoped[0].column:
        return []
    param, column = scoped[0], scoped[0].column
    relation = next((r for r in resource.relations if r.columns == (column,)), None)
    if relation is None or param.hops:
        return []
    key = relation.target_columns[0]
    found = []
    for parent in pool.having(relation.target, [key]):
        filled = path.replace("{" + param.name + "}", quote(path_text(parent[key]), safe=""))
        found.append((filled, {column: parent[key]}))
    return found


def _limit_query(op: Operation) -> str:
    """Ask for the largest page the list allows, so one call gives many rows."""
    for param in op.params:
        if param.role == ParamRole.LIMIT:
            largest = (param.validation or {}).get("maximum", 100)
            return "?" + urlencode({param.name: int(largest) if largest else 100})
    return ""


def list_items(op: Operation, answer: Any) -> list[Mapping[str, Any]]:
    """The rows of a list operation's answer, out of its envelope."""
    envelope = op.response.envelope if op.response is not None else None
    if envelope is not None and envelope.wrapper and isinstance(answer, dict):
        answer = answer.get(envelope.wrapper)
    if envelope is not None and envelope.items and isinstance(answer, dict):
        answer = answer.get(envelope.items)
    if not isinstance(answer, list):
        return []
    return [item for item in answer if isinstance(item, dict)]


def row_of(resource: Resource, item: Mapping[str, Any]) -> dict[str, Any]:
    """An answered item keyed by column (its properties through the resource's fields)."""
    row = {}
    for name, value in item.items():
        found = resource.field(name)
        if found is not None:
            row[found.column] = value
    return row


def path_text(value: Any) -> str:
    """A stored value as a path or query parameter spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
