"""Lifecycle rules: a schema's `x-backsmith: {transitions: {field: status, allowed: {...}}}`.

    x-backsmith:
      transitions:
        field: status
        allowed: {pending: [paid, cancelled], paid: [shipped, cancelled]}

Every write of the field (PATCH, PUT, a handler through its row helpers) moves a row from
its stored state only to one its state allows; anything else is a 409 naming the states it
may go to. Writing the state a row already has is no move and is allowed. An operation
declaring `x-backsmith: {transition: {to: cancelled}}` (`POST /orders/{id}/cancel`) needs
no handler: it moves the row its path names, as its owner, and answers the row; asked of
a row already in that state, it is refused like any move the rule does not list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backsmith.contract.load import Contract
from backsmith.contract.source import escape
from backsmith.errors import Conflict, Issue
from backsmith.model.types import Operation, Resource


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """One table's states: the column holding them and the moves each state allows."""

    name: str  # the property, as the API names it
    column: str
    allowed: Mapping[str, tuple[str, ...]]

    def check(self, current: Any, new: Any, moving: bool = False) -> None:
        """Refuse a move the rule does not allow (409, naming the allowed next states).

        A write keeping the state is no move and passes, unless `moving`: a transition
        operation (cancel) asked of a row already in its state is refused too."""
        if (new == current and not moving) or new in self.allowed.get(str(current), ()):
            return
        nexts = self.allowed.get(str(current), ())
        may = f"it may go to {', '.join(nexts)}" if nexts else "it may go nowhere from there"
        detail = f"'{self.name}' cannot go from {current} to {new}: {may}."
        raise Conflict(detail, errors=[{"detail": detail, "pointer": f"#/{self.name}"}])


def read_lifecycles(
    contract: Contract, resources: dict[str, Resource], schema_resources: dict[str, str]
) -> tuple[dict[str, Lifecycle], list[Issue]]:
    """Lifecycles by table, and an issue for each rule that cannot be applied."""
    found: dict[str, Lifecycle] = {}
    issues: list[Issue] = []
    schemas = (contract.document.get("components") or {}).get("schemas") or {}
    for name, schema in schemas.items():
        ext = schema.get("x-backsmith") if isinstance(schema, dict) else None
        if not isinstance(ext, dict) or "transitions" not in ext:
            continue
        pointer = f"/components/schemas/{escape(name)}/x-backsmith/transitions"
        table = schema_resources.get(name)
        resource = resources.get(table) if table is not None else None
        if resource is None:
            issues.append(contract.issue(f"schema '{name}' is stored in no table", pointer))
            continue
        lifecycle, problem = _lifecycle(ext["transitions"], resource)
        if problem is not None or lifecycle is None:
            issues.append(contract.issue(problem or "", pointer))
            continue
        previous = found.get(resource.table)
        if previous is not None and previous != lifecycle:
            message = f"table {resource.table} already has other transitions"
            issues.append(contract.issue(message, pointer))
            continue
        found[resource.table] = lifecycle
    return found, issues


_SHAPE = "transitions must be {field: <property>, allowed: {<state>: [<state>, ...]}}"


def _lifecycle(value: Any, resource: Resource) -> tuple[Lifecycle | None, str | None]:
    if not isinstance(value, dict) or set(value) != {"field", "allowed"}:
        return None, _SHAPE
    field = resource.field(str(value["field"]))
    if field is None or field.hidden:
        return None, f"transitions field '{value['field']}' is no property of {resource.table}"
    allowed = value["allowed"]
    if not isinstance(allowed, dict) or not all(
        isinstance(nexts, list) and all(isinstance(s, str) for s in nexts)
        for nexts in allowed.values()
    ):
        return None, _SHAPE
    states = {str(state) for state in allowed} | {s for nexts in allowed.values() for s in nexts}
    unknown = sorted(states - set(field.enum)) if field.enum else []
    if unknown:
        listed = ", ".join(field.enum)
        return None, f"transitions name states '{field.name}' cannot hold: {', '.join(unknown)}" + (
            f" (it holds {listed})"
        )
    moves = {str(state): tuple(nexts) for state, nexts in allowed.items()}
    return Lifecycle(field.name, field.column, moves), None


def transition_target(
    contract: Contract,
    op: Operation,
    to: str,
    resource: Resource | None,
    lifecycles: Mapping[str, Lifecycle],
) -> Issue | None:
    """What stops `transition: {to: ...}` on this operation, or None."""
    pointer = f"{op.pointer}/x-backsmith/transition"
    if resource is None:
        return contract.issue("a transition needs the row its path names: no table found", pointer)
    lifecycle = lifecycles.get(resource.table)
    if lifecycle is None:
        message = f"{resource.table} declares no transitions on its schema to move rows through"
        return contract.issue(message, pointer)
    states = set(lifecycle.allowed) | {s for nexts in lifecycle.allowed.values() for s in nexts}
    if to not in states:
        message = f"'{to}' is no state of {lifecycle.name} ({', '.join(sorted(states))})"
        return contract.issue(message, pointer)
    if not any(p.location == "path" for p in op.params):
        return contract.issue("a transition needs a path parameter naming the row", pointer)
    return None
