"""Lists scoped to the caller: an operation's `x-backsmith: {where: <path> = caller}`.

`where: author.followers.follower_id = caller` on `GET /feed` keeps the books whose author
the caller follows; `where: author_id = caller` the caller's own books. The path is read
like a filter's (`backsmith.model.relations`), so the scope runs as the same semi-joins,
with the caller's key bound per request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backsmith.model.hops import Hop

if TYPE_CHECKING:  # both import the model's types, which hold a CallerScope
    from backsmith.model.relations import RelationGraph
    from backsmith.model.types import Resource

_CONDITION = re.compile(r"\s*([A-Za-z_][\w.]*)\s*=\s*caller\s*")


@dataclass(frozen=True, slots=True)
class CallerScope:
    """Rows whose `column` (of the row `hops` reach, or of the row itself) is the caller's key."""

    column: str
    hops: tuple[Hop, ...] = ()
    declared: str = ""


def read_caller_scope(graph: RelationGraph, resource: Resource, declared: str) -> CallerScope | str:
    """The scope `declared` asks for, or why it names none."""
    matched = _CONDITION.fullmatch(declared)
    if matched is None:
        return f"where '{declared}' must read <column or relation path> = caller"
    path = matched.group(1)
    field = resource.field(path)
    if field is not None and "." not in path and not field.hidden:
        return CallerScope(field.column, (), declared)
    found = graph.path(resource.table, path)
    if found is None or not found[0]:
        explained = graph.explain(resource.table, path)
        return explained or (
            f"where '{declared}': '{path}' names no column of {resource.table} and no "
            f"relation path (relations here: {', '.join(graph.names(resource.table)[:6])})"
        )
    hops, column = found
    if column is None:  # the path ends on a table (author.followers): its rows' key
        target = graph.resource(hops[-1].target)
        if target is None:
            return f"where '{declared}': '{path}' ends on no table"
        column = target.key.column
    return CallerScope(column, tuple(hops), declared)
