"""What handlers of a table share: the address a path names, conditions across relations,
the parents a nested path names, and the answer for a written row."""

from __future__ import annotations

from typing import Any

from backsmith.errors import NotFound, ValidationFailed
from backsmith.http.kind_plans import TablePlan
from backsmith.http.parsing import Parsed
from backsmith.http.request import Request
from backsmith.storage.related import reaches


def subject_of(request: Request) -> Any:
    """The caller's subject; None for an anonymous caller."""
    principal = request.principal
    return principal.subject if principal is not None else None


def scope_of(plan: TablePlan, parsed: Parsed) -> dict[str, Any]:
    """Column equalities from path parameters: the item key and parent scopes."""
    return {column: parsed.path[name] for name, column in plan.addressing}


def across(plan: TablePlan, parsed: Parsed, subject: Any) -> list[Any]:
    """Conditions over related rows or computed values: scopes and filters across relations."""
    table = plan.queries.table
    clauses = []
    for param in plan.scopes_across:
        clauses.append(
            reaches(plan.tables, table, param.hops, param.column or "", parsed.path[param.name])
        )
    for param in plan.filters_across:
        if param.name not in parsed.query:
            continue
        value = parsed.query[param.name]
        if param.computed is not None:
            found = (
                plan.shaper.expression(param.declared or param.name, subject)
                if plan.shaper is not None
                else None
            )
            if found is not None:
                expression = found[0]
                clauses.append(
                    expression.in_(value) if isinstance(value, list) else expression == value
                )
            continue
        clauses.append(reaches(plan.tables, table, param.hops, param.column or "", value))
    return clauses


def bound(plan: TablePlan, subject: Any) -> dict[str, Any]:
    """Values the statements bind for this caller (its key, for `exists`); a fresh dict."""
    if plan.shaper is None or subject is None:
        return {}
    return plan.shaper.bound(subject)


def invalid(plan: TablePlan, detail: str, **where: str) -> ValidationFailed:
    return ValidationFailed([{"detail": detail, "pointer": "#", **where}], plan.validation_status)


async def require_parents(plan: TablePlan, conn: Any, parsed: Parsed, request: Request) -> Any:
    """The innermost parent row a nested path names (None when it names none); 404 when a
    parent does not exist (/authors/999/books), is not under the parent outside it
    (/authors/le-guin/books/<another's book>/reviews), or belongs to someone else
    (/orders/<another's>/lines)."""
    principal = request.principal
    innermost = None
    parents = plan.parents
    checks = list(enumerate(zip(parents, plan.owners.parents, strict=True)))
    for index, (parent, ownership) in reversed(checks):  # the outermost is named first
        table = parent.queries.table
        equals: dict[str, Any] = {parent.column: parsed.path[parent.name]}
        depth = len(parent.hops)
        where: list[Any] = [
            reaches(plan.tables, table, outer.hops[depth:], outer.column, parsed.path[outer.name])
            for outer in parents[index + 1 :]
            if len(outer.hops) > depth
        ]
        params: dict[str, Any] = {}
        if ownership is not None:
            ownership.narrow(principal, equals, where, params)
        row = await parent.queries.fetch_one(conn, equals, where=where, params=params)
        if row is None:
            raise NotFound(f"No parent item matches path parameter '{parent.name}'.")
        innermost = row
    return innermost


async def respond_row(
    plan: TablePlan, conn: Any, row: Any, subject: Any, refetch: bool
) -> dict[str, Any] | None:
    """The response item for a written row, read again when it embeds or computes anything."""
    shaper = plan.shaper
    if row is None or shaper is None:
        return None
    if refetch or not shaper.flat:
        return await shaper.reload(conn, row, subject)
    return shaper.one(row)
