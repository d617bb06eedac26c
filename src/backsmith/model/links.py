"""Link operations: adding or removing a row of a join table, or the caller's own link."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backsmith.model.path_params import with_role
from backsmith.model.paths import address_column, resource_of_segment
from backsmith.model.relations import Ambiguous, RelationGraph
from backsmith.model.types import Hop, HopKind, Param, ParamLocation, ParamRole, Resource

# (parent resource, hop, params with roles, the column naming the caller)
Link = tuple[Resource, Hop, list[Param], str | None]


def find_link(
    graph: RelationGraph,
    resources: dict[str, Resource],
    ext: dict[str, Any],
    method: str,
    segments: list[str],
    params: list[Param],
    served_at: Callable[[str], Resource | None] | None = None,
) -> Link | str | None:
    """The link an operation adds or removes; why it cannot be one; or None, not a link.

    The row a declared link hangs from is the operation's declared `resource`, else the one
    its parent segment names, else the one its item path serves (`/profiles/{username}`
    answering a view of users makes `/profiles/{username}/follow` a link of users).
    """
    if method not in ("put", "post", "delete"):
        return None
    declared = ext.get("link")
    if declared is None:
        return _join_link(graph, resources, segments, params)
    # POST /books/{slug}/wishlist with x-backsmith: {link: wishlists}: the caller's link
    item_at = max((i for i, s in enumerate(segments) if s.startswith("{")), default=-1)
    if item_at < 1:
        return "a link operation needs an item path such as /books/{id}/wishlist"
    named = ext.get("resource")
    parent = resources.get(named) if isinstance(named, str) else None
    parent = parent or resource_of_segment(resources, segments[item_at - 1])
    if parent is None and served_at is not None:
        parent = served_at("/" + "/".join(segments[: item_at + 1]))
    if parent is None:
        return f"'{segments[item_at - 1]}' names no table"
    hop = graph.find(parent.table, str(declared), to_many=True)
    caller_column = None
    if hop is not None and hop.kind == HopKind.THROUGH:
        # link: followers (through follows): the parent is the followed_id of the row the
        # caller adds, and the caller its follower_id
        caller_column = hop.join_target[0]
        hop = _rows_of(graph, parent.table, hop)
    if hop is None or hop.kind != HopKind.MANY:
        ambiguous = graph.explain(parent.table, str(declared), to_many=True)
        if ambiguous is not None:  # which column the path's row goes in; the caller's is the other
            return Ambiguous(f"{ambiguous} (a link puts the path's row in that column)")
        return f"'{declared}' is not a table that refers to {parent.table}"
    rows = graph.resource(hop.target)
    if caller_column is None:
        caller_column = _other_reference(rows, hop) if rows is not None else None
    if caller_column is None:
        return f"cannot tell which column of {hop.target} names the caller"
    roles = []
    for param in params:
        if param.location == ParamLocation.PATH and f"{{{param.name}}}" == segments[item_at]:
            column = address_column(parent, param.name)
            roles.append(with_role(param, ParamRole.KEY, column))
        else:
            roles.append(param)
    return parent, hop, roles, caller_column


def _join_link(
    graph: RelationGraph,
    resources: dict[str, Resource],
    segments: list[str],
    params: list[Param],
) -> Link | None:
    """PUT /books/{id}/genres/{genreId}: the last static segment is a join relation."""
    if len(segments) < 4 or not segments[-1].startswith("{"):
        return None
    if not segments[-3].startswith("{") or segments[-2].startswith("{"):
        return None
    parent = resource_of_segment(resources, segments[-4])
    if parent is None:
        return None
    hop = graph.find(parent.table, segments[-2], to_many=True)
    if hop is None or hop.kind != HopKind.THROUGH:
        return None
    target = graph.resource(hop.target)
    assert target is not None
    roles = []
    for param in params:
        if param.location != ParamLocation.PATH:
            roles.append(param)
        elif f"{{{param.name}}}" == segments[-1]:
            column = address_column(target, param.name)
            roles.append(with_role(param, ParamRole.TARGET, column))
        elif f"{{{param.name}}}" == segments[-3]:
            roles.append(with_role(param, ParamRole.KEY, address_column(parent, param.name)))
        else:
            return None
    return parent, hop, roles, None


def _rows_of(graph: RelationGraph, table: str, through: Hop) -> Hop | None:
    """The hop from `table` to the join rows `through` passes (follows by followed_id)."""
    found = [
        h
        for h in graph.hops(table)
        if h.kind == HopKind.MANY
        and h.target == through.join
        and h.target_columns == through.join_source
    ]
    return found[0] if len(found) == 1 else None


def _other_reference(rows: Resource, hop: Hop) -> str | None:
    """In a table that refers back along `hop`, its one other single-column reference."""
    others = [r for r in rows.relations if r.columns != hop.target_columns and len(r.columns) == 1]
    return others[0].columns[0] if len(others) == 1 else None
