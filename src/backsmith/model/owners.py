"""Rows that belong to a caller: a schema's `x-backsmith: {owner: ...}`.

`owner: customer_id` names a column of the resource's own table that holds the caller's
subject; `owner: order.customer_id` reaches it through a relation (order lines belong to
whoever owns their order). The HTTP layer turns this into a condition on every statement.
"""

from __future__ import annotations

from typing import Any

from backsmith.contract.source import escape
from backsmith.errors import Issue
from backsmith.model.relations import RelationGraph
from backsmith.model.types import Owner, Resource


def read_owners(
    contract: Any,
    resources: dict[str, Resource],
    schema_resources: dict[str, str],
    graph: RelationGraph,
) -> tuple[dict[str, Owner], list[Issue]]:
    """Owners by table, and an issue for each `owner` that names no column or path."""
    owners: dict[str, Owner] = {}
    issues: list[Issue] = []
    schemas = (contract.document.get("components") or {}).get("schemas") or {}
    for name, schema in schemas.items():
        ext = schema.get("x-backsmith") if isinstance(schema, dict) else None
        if not isinstance(ext, dict) or "owner" not in ext:
            continue
        pointer = f"/components/schemas/{escape(name)}/x-backsmith/owner"
        declared = str(ext["owner"])
        table = schema_resources.get(name)
        resource = resources.get(table) if table is not None else None
        if resource is None:
            issues.append(contract.issue(f"schema '{name}' is stored in no table", pointer))
            continue
        found = _resolve(resource, declared, graph)
        if found is None:
            message = (
                f"owner '{declared}' names no column of {resource.table} "
                "and no relation path ending in a column"
            )
            issues.append(contract.issue(message, pointer))
            continue
        previous = owners.get(resource.table)
        if previous is not None and previous != found:
            message = f"table {resource.table} already has owner '{previous.declared}'"
            issues.append(contract.issue(message, pointer))
            continue
        owners[resource.table] = found
    return owners, issues


def _resolve(resource: Resource, declared: str, graph: RelationGraph) -> Owner | None:
    field = resource.field(declared)
    if field is not None and "." not in declared:
        return Owner(field.column, (), declared)
    path = graph.path(resource.table, declared)
    if path is None or not path[0] or path[1] is None:
        return None
    hops, column = path
    if any(hop.to_many for hop in hops):
        return None  # a row belongs to one owner, reached through references it makes
    return Owner(column, tuple(hops), declared)
