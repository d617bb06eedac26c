"""Declared parameters and the role conventions give each: key, scope, filter, paging, sort."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backsmith.model.envelopes import json_content
from backsmith.model.naming import snake
from backsmith.model.paths import address_column, key_column, resource_of_segment
from backsmith.model.relations import Ambiguous, RelationGraph
from backsmith.model.schemas import deref
from backsmith.model.shapes import natural_key
from backsmith.model.types import (
    FieldType,
    Hop,
    HopKind,
    ItemShape,
    Kind,
    Member,
    Param,
    ParamLocation,
    ParamRole,
    Resource,
)

LIMIT_NAMES = frozenset({"limit", "page_size", "per_page", "size", "max_results", "top", "first"})
CURSOR_NAMES = frozenset(
    {"cursor", "after", "page_token", "next_token", "starting_after", "continuation_token"}
)
PAGE_NAMES = frozenset({"page", "page_number", "page_no"})
OFFSET_NAMES = frozenset({"offset", "skip", "start"})
SORT_NAMES = frozenset({"sort", "sort_by", "order_by", "ordering", "orderby", "sortby"})
ORDER_NAMES = frozenset({"order", "direction", "sort_order", "dir", "sort_direction"})
UNFILTERABLE = frozenset({FieldType.JSON, FieldType.ARRAY, FieldType.BINARY})
_LOCATIONS = frozenset(ParamLocation)


def read_params(document: dict[str, Any], item: dict[str, Any], op: dict[str, Any]) -> list[Param]:
    """A path item's and an operation's parameters, the operation's winning by name and place."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
        param = deref(document, raw)
        if isinstance(param, dict) and "name" in param and param.get("in") in _LOCATIONS:
            merged[(param["name"], param["in"])] = param
    params = []
    for (name, place), param in merged.items():
        location = ParamLocation(place)
        schema = param.get("schema")
        if schema is None:
            _, schema = json_content(param.get("content"))
        form = location in (ParamLocation.QUERY, ParamLocation.COOKIE)
        style = param.get("style") or ("form" if form else "simple")
        declared = (param.get("x-backsmith") or {}).get("filter")
        params.append(
            Param(
                name=name,
                location=location,
                required=bool(param.get("required")) or location == ParamLocation.PATH,
                schema=schema if isinstance(schema, dict) else {},
                style=style,
                explode=param.get("explode", style == "form"),
                declared=declared if isinstance(declared, str) else None,
            )
        )
    return params


def with_role(
    param: Param,
    role: ParamRole,
    column: str | None,
    hops: tuple[Hop, ...] = (),
    computed: Member | None = None,
) -> Param:
    """`param` with the role, column and relation path conventions found for it."""
    return replace(
        param,
        role=role,
        column=column,
        hops=hops,
        computed=computed.computed if computed is not None else None,
        declared=computed.name if computed is not None else param.declared,
    )


class ParamRoles:
    """Gives each parameter of a CRUD operation its role over the resource's table."""

    def __init__(self, graph: RelationGraph) -> None:
        self.graph = graph
        # Declared filters that fit two relations: contract errors the mapper reports.
        self.ambiguous: list[tuple[Param, Ambiguous]] = []

    def roles(
        self,
        params: list[Param],
        resource: Resource,
        segments: list[str],
        kind: Kind,
        is_item: bool,
        shape: ItemShape,
    ) -> tuple[Param, ...] | str:
        """The parameters with roles, or why one cannot be given its role."""
        out: list[Param] = []
        path_params = [s[1:-1] for s in segments if s.startswith("{") and s.endswith("}")]
        for param in params:
            if param.location == ParamLocation.PATH:
                if is_item and param.name == path_params[-1]:
                    column = key_column(resource, param.name)
                    if column is None:
                        return (
                            f"path parameter '{param.name}' names a column of {resource.table} "
                            "that is not unique"
                        )
                    out.append(with_role(param, ParamRole.KEY, column))
                    continue
                scoped = self._scope(resource, segments, param)
                if isinstance(scoped, str):
                    return scoped
                out.append(scoped)
            elif param.location == ParamLocation.QUERY and kind == Kind.LIST:
                found = self._query_role(param, resource, shape)
                if isinstance(found, str):
                    return found
                out.append(found)
            else:
                out.append(param)
        return tuple(out)

    def _scope(self, resource: Resource, segments: list[str], param: Param) -> Param | str:
        """A parent path parameter: a column of the resource, or rows reached through a hop."""
        index = segments.index(f"{{{param.name}}}")
        parent_segment = segments[index - 1] if index > 0 else ""
        hop = self._back_to_self(resource, segments, index)
        if hop is None and parent_segment and not parent_segment.startswith("{"):
            hop = self.graph.find(resource.table, parent_segment, to_many=False)
            if hop is None:
                hop = self.graph.find(resource.table, parent_segment)
        if hop is not None:
            parent = self.graph.resource(hop.target)
            assert parent is not None
            column = address_column(parent, param.name)
            if hop.kind == HopKind.ONE and (column,) == hop.target_columns:
                return with_role(param, ParamRole.SCOPE, hop.source_columns[0])
            return with_role(param, ParamRole.SCOPE, column, hops=(hop,))
        field = resource.field(param.name)
        if field is not None and not field.hidden:
            return with_role(param, ParamRole.SCOPE, field.column)
        return f"cannot tell which column path parameter '{param.name}' scopes"

    def _back_to_self(self, resource: Resource, segments: list[str], index: int) -> Hop | None:
        """/customers/{handle}/followers: rows of the parent's own table, reached from the
        parent by the relation the next segment names; the hop back from a listed row."""
        parent_segment = segments[index - 1] if index > 0 else ""
        named = segments[index + 1] if index + 1 < len(segments) else ""
        if not named or named.startswith("{") or parent_segment.startswith("{"):
            return None
        parent = resource_of_segment(self.graph.resources, parent_segment)
        if parent is None or parent.table != resource.table:
            return None
        forward = self.graph.find(parent.table, named, to_many=True)
        if forward is None or forward.target != resource.table:
            return None
        return self.graph.reverse(forward)

    def _query_role(self, param: Param, resource: Resource, shape: ItemShape) -> Param | str:
        if param.declared is not None:
            return self._declared_filter(param, resource, shape)
        name = snake(param.name)
        field = resource.field(param.name)
        if field is not None and not field.hidden and not field.write_only:
            if field.type in UNFILTERABLE:
                return f"cannot filter on '{param.name}' ({field.type})"
            return with_role(param, ParamRole.FILTER, field.column)
        for role, names in (
            (ParamRole.LIMIT, LIMIT_NAMES),
            (ParamRole.CURSOR, CURSOR_NAMES),
            (ParamRole.PAGE, PAGE_NAMES),
            (ParamRole.OFFSET, OFFSET_NAMES),
            (ParamRole.SORT, SORT_NAMES),
            (ParamRole.ORDER, ORDER_NAMES),
        ):
            if name in names and (role != ParamRole.CURSOR or _holds_token(param)):
                return with_role(param, role, None)
        member = shape.member(param.name)
        if member is not None and member.computed is not None:
            return with_role(param, ParamRole.FILTER, None, computed=member)
        hop = self.graph.find(resource.table, name)
        target = self.graph.resource(hop.target) if hop is not None else None
        if hop is not None and target is not None:  # ?author=le-guin, ?genre=fantasy
            column = natural_key(target)
            if column is not None:
                return with_role(param, ParamRole.FILTER, column, hops=(hop,))
        return param

    def _declared_filter(self, param: Param, resource: Resource, shape: ItemShape) -> Param | str:
        declared = str(param.declared)
        member = shape.member(declared)
        if member is not None and member.computed is not None:
            return with_role(param, ParamRole.FILTER, None, computed=member)
        field = resource.field(declared)
        if field is not None and "." not in declared:
            return with_role(param, ParamRole.FILTER, field.column)
        found = self.graph.path(resource.table, declared)
        if found is None or not found[0]:
            ambiguous = self.graph.explain(resource.table, declared)
            if ambiguous is not None:
                self.ambiguous.append((param, Ambiguous(ambiguous)))
            return f"filter '{declared}' of parameter '{param.name}' names no relation path"
        hops, column = found
        target = self.graph.resource(hops[-1].target)
        if column is None and target is not None:
            column = natural_key(target)
        if column is None:
            return f"filter '{declared}' of parameter '{param.name}' needs a column at its end"
        return with_role(param, ParamRole.FILTER, column, hops=tuple(hops))


def _holds_token(param: Param) -> bool:
    """Whether a parameter can carry an opaque cursor: `?after=2016-01-27T08:38:55Z` is a
    date-time bound, and a cursor in it would be refused by its own schema."""
    declared = param.schema.get("type", "string")
    return declared == "string" and not param.schema.get("format")
