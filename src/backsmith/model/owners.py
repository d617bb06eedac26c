"""Rows that belong to a caller: a schema's `x-backsmith: {owner: ..., visibility: ...}`.

`owner: customer_id` names a column of the resource's own table that holds the caller's
subject; `owner: order.customer_id` reaches it through a relation (order lines belong to
whoever owns their order). The HTTP layer turns this into a condition on every statement.
`visibility: public` keeps the writes to the owner but lets anyone read (a post, a
review); private, the default, keeps reads to the owner too.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backsmith.contract.source import escape
from backsmith.errors import Issue
from backsmith.model.relations import RelationGraph
from backsmith.model.types import (
    Hop,
    HopKind,
    Operation,
    Owner,
    ParamRole,
    Resource,
    Visibility,
)


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
        if not isinstance(ext, dict):
            continue
        where = f"/components/schemas/{escape(name)}/x-backsmith"
        if "owner" not in ext:
            if "visibility" in ext:  # visible to whom is only asked of rows someone owns
                message = "visibility applies to owned rows: declare owner beside it"
                issues.append(contract.issue(message, f"{where}/visibility"))
            continue
        pointer = f"{where}/owner"
        declared = str(ext["owner"])
        table = schema_resources.get(name)
        resource = resources.get(table) if table is not None else None
        if resource is None:
            issues.append(contract.issue(f"schema '{name}' is stored in no table", pointer))
            continue
        found = _resolve(resource, declared, graph)
        if found is not None:
            found = replace(
                found,
                ignore_supplied=ext.get("supplied-owner") == "ignore",
                visibility=Visibility(ext.get("visibility", Visibility.PRIVATE)),
            )
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
            if previous.visibility != found.visibility:  # the same owner, seen differently
                message += f" with visibility {previous.visibility}; declare the same on both"
            issues.append(contract.issue(message, pointer))
            continue
        owners[resource.table] = found
    return owners, issues


def inherit_owners(
    owners: dict[str, Owner], resources: dict[str, Resource], operations: list[Operation]
) -> dict[str, Owner]:
    """Owners for tables served under an owned parent's path: /orders/{id}/lines makes
    order lines belong to whoever owns their order, on every path that serves them."""
    found = dict(owners)
    changed = True
    while changed:  # lines under orders under customers: until nothing more is learnt
        changed = False
        for op in operations:
            resource = resources.get(op.resource) if op.resource else None
            if resource is None or resource.table in found:
                continue
            for param in op.params:
                hops = _scope_hops(resource, param) if param.role == ParamRole.SCOPE else ()
                parent = found.get(hops[-1].target) if hops else None
                if parent is not None:
                    declared = f"{parent.declared} through {op.path}"
                    found[resource.table] = replace(
                        parent, hops=hops + parent.hops, declared=declared
                    )
                    changed = True
                    break
    return found


def _scope_hops(resource: Resource, param: Any) -> tuple[Hop, ...]:
    """The hops from a row to the parent a scope parameter names."""
    if param.hops:
        return tuple(param.hops)
    relation = next((r for r in resource.relations if r.columns == (param.column,)), None)
    if relation is None or not param.column:
        return ()
    target = relation.target
    return (Hop(HopKind.ONE, resource.table, target, relation.columns, relation.target_columns),)


def _resolve(resource: Resource, declared: str, graph: RelationGraph) -> Owner | None:
    field = resource.field(declared)
    if field is not None and "." not in declared:
        return Owner(field.column, (), declared)
    path = graph.path(resource.table, declared)
    if path is None or not path[0] or path[1] is None:
        return None
    hops, column = path[0], path[1]
    if any(hop.to_many for hop in hops):
        return None  # a row belongs to one owner, reached through references it makes
    return Owner(column, tuple(hops), declared)


def owner_leaks(
    contract: Any,
    owners: dict[str, Owner],
    resources: dict[str, Resource],
    operations: list[Operation],
) -> list[Issue]:
    """Responses and filters that would reach owned rows around their owner.

    A book that embeds order lines, or sums them, or is filtered by them, would show every
    customer's lines. Owned rows may only be embedded, computed over or filtered on from
    the row they belong through (an order's lines, a customer's orders). Public rows may be
    reached from anywhere; private rows reached from a public one would be shown to all.
    """
    owners = {table: owner for table, owner in owners.items() if not owner.public}
    issues = []
    by_name = {r.name: r for r in resources.values()}
    for op in operations:
        found: list[str] = []
        shapes = [op.response.shape if op.response else None, op.body_shape]
        while shapes:
            shape = shapes.pop()
            if shape is None:
                continue
            holder = by_name.get(shape.resource)
            for member in shape.members:
                hop = member.computed.hop if member.computed is not None else member.hop
                if _callers_own(member.computed, owners):
                    continue  # wishlisted: whether the caller's own row is there
                if hop is not None and not _through_owner(holder, hop, owners):
                    found.append(f"{shape.resource}.{member.name}")
                shapes.append(member.shape)
        holder = by_name.get(op.resource) if op.resource else None
        for param in op.params:
            if param.role == ParamRole.SCOPE:
                continue  # a parent in the path: its own owner is checked (404)
            hops = param.hops or ((param.computed.hop,) if param.computed is not None else ())
            first_leaks = bool(hops) and not _through_owner(holder, hops[0], owners)
            later_leak = any(h.target in owners or (h.join or "") in owners for h in hops[1:])
            if first_leaks or later_leak:
                found.append(f"parameter {param.name}")
        if found:
            message = (
                f"{op.method} {op.path} reaches rows that belong to their owners "
                f"({', '.join(dict.fromkeys(found))}) from rows they do not belong through; "
                "every caller would see every owner's rows (if anyone may read them, declare "
                "visibility: public beside their owner)"
            )
            issues.append(contract.issue(message, op.pointer))
    return issues


def _callers_own(computed: Any, owners: dict[str, Owner]) -> bool:
    """An `exists` about the caller over rows owned by the very column naming the caller."""
    if computed is None or computed.function != "exists":
        return False
    rows = computed.hop.join if computed.hop.kind == HopKind.THROUGH else computed.hop.target
    owner = owners.get(rows or "")
    return owner is not None and not owner.hops and owner.column == computed.caller_column


def _through_owner(holder: Resource | None, hop: Hop, owners: dict[str, Owner]) -> bool:
    """Whether rows `hop` reaches from `holder` are owned, if at all, by whoever owns
    `holder`: its own children (an order's lines, a customer's orders), or the row it
    belongs through (a line's order, an order's customer)."""
    reached = [t for t in (hop.target, hop.join) if t is not None and t in owners]
    if not reached:
        return True
    if holder is None or holder.table not in owners or reached != [hop.target]:
        return False
    owner, holder_owner = owners[hop.target], owners[holder.table]
    if hop.kind == HopKind.MANY:
        if owner.hops:  # order_lines owned through their order: reached from that order
            first = owner.hops[0]
            return first.target == holder.table and first.source_columns == hop.target_columns
        # orders owned by customer_id, reached from the customer whose key that is
        return (
            (owner.column,) == hop.target_columns
            and not holder_owner.hops
            and (holder_owner.column,) == hop.source_columns
        )
    if hop.kind == HopKind.ONE:
        if holder_owner.hops:  # a line's own order
            first = holder_owner.hops[0]
            return first.target == hop.target and first.source_columns == hop.source_columns
        # an order's customer, a customer owned by its own key
        return (
            (holder_owner.column,) == hop.source_columns
            and not owner.hops
            and (owner.column,) == hop.target_columns
        )
    return False
