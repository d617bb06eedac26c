"""Hooks around CRUD writes: `x-backsmith: {hooks: {before-create: shop.hooks:price}}`.

On a schema, they run around every create, update (PATCH and PUT) or delete of its table's
rows; on an operation (or its path item), around that operation only, where they win over
the schema's for the same moment. Each names a function as `module:function`, which
`logic.loading` imports.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from backsmith.contract.load import Contract
from backsmith.contract.source import escape
from backsmith.errors import Issue
from backsmith.model.policies import Handler, policy_issue
from backsmith.model.types import Kind, Operation, Resource

MOMENTS: dict[Kind, tuple[str, str]] = {
    Kind.CREATE: ("before-create", "after-create"),
    Kind.UPDATE: ("before-update", "after-update"),
    Kind.REPLACE: ("before-update", "after-update"),
    Kind.DELETE: ("before-delete", "after-delete"),
}
EVENTS = tuple(moment for pair in MOMENTS.values() for moment in pair)
# By table: (moment, function, pointer of its declaration), in the order of EVENTS.
TableHooks = dict[str, tuple[tuple[str, Handler, str], ...]]
EVENTS = tuple(dict.fromkeys(EVENTS))  # each once, in order


def with_crud_hooks(
    contract: Contract,
    resources: dict[str, Resource],
    schema_tables: dict[str, str],
    operations: list[Operation],
) -> tuple[list[Operation], TableHooks, list[Issue]]:
    """Each CRUD write with the hooks its schema and itself name, the schemas' hooks by
    table (a handler's row helpers run those), and an issue for each hook that is not
    `module:function` or names a moment that does not exist."""
    issues: list[Issue] = []
    by_table: dict[str, dict[str, tuple[Handler, str]]] = {}
    for pointer, table, declared in _schema_hooks(contract, schema_tables):
        found = by_table.setdefault(table, {})
        for event, handler, where in _parsed(contract, pointer, declared, issues):
            found.setdefault(event, (handler, where))
    hooked = []
    for op in operations:
        moments = MOMENTS.get(op.kind)
        own = _own_hooks(contract, op)
        if moments is None or op.resource is None:
            if own is not None:
                issues.append(
                    contract.issue(
                        "hooks run around creates, updates and deletes only",
                        f"{op.pointer}/x-backsmith/hooks",
                    )
                )
            hooked.append(op)
            continue
        table = resources[op.resource].table
        chosen = dict(by_table.get(table, {}))
        if own is not None:
            for event, handler, where in _parsed(contract, op.pointer, own, issues):
                chosen[event] = (handler, where)
        kept = tuple((event, *chosen[event]) for event in moments if event in chosen)
        hooked.append(replace(op, hooks=kept) if kept else op)
    tables = {
        table: tuple((event, *found[event]) for event in EVENTS if event in found)
        for table, found in by_table.items()
        if found
    }
    return hooked, tables, issues


def _schema_hooks(
    contract: Contract, schema_tables: dict[str, str]
) -> Iterator[tuple[str, str, Any]]:
    schemas = (contract.document.get("components") or {}).get("schemas") or {}
    for name, schema in schemas.items():
        ext = schema.get("x-backsmith") if isinstance(schema, dict) else None
        if isinstance(ext, dict) and "hooks" in ext and name in schema_tables:
            yield f"/components/schemas/{escape(name)}", schema_tables[name], ext["hooks"]


def _own_hooks(contract: Contract, op: Operation) -> Any:
    """The operation's own hooks, else its path item's."""
    item = (contract.document.get("paths") or {}).get(op.path) or {}
    for holder in (item.get(op.method.lower()) or {}, item):
        ext = holder.get("x-backsmith") if isinstance(holder, dict) else None
        if isinstance(ext, dict) and "hooks" in ext:
            return ext["hooks"]
    return None


def _parsed(
    contract: Contract, pointer: str, declared: Any, issues: list[Issue]
) -> Iterator[tuple[str, Handler, str]]:
    where = f"{pointer}/x-backsmith/hooks"
    if not isinstance(declared, dict):
        issues.append(contract.issue("hooks must map a moment to module:function", where))
        return
    for event, value in declared.items():
        at = f"{where}/{escape(str(event))}"
        if event not in EVENTS:
            issues.append(contract.issue(f"no hook moment '{event}' ({', '.join(EVENTS)})", at))
            continue
        problem = policy_issue("handler", value)
        if problem is not None:
            issues.append(contract.issue(problem.replace("'handler'", f"'{event}'"), at))
            continue
        module, _, function = str(value).partition(":")
        yield str(event), Handler(module, function), at
