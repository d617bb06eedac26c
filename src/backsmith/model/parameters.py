"""Declared parameters and the role conventions give each: key, scope, filter, paging, sort."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backsmith.contract.source import escape
from backsmith.model.computed import participle_bases
from backsmith.model.envelopes import json_content
from backsmith.model.naming import names_match, snake
from backsmith.model.path_params import PathRoles, ServedAt, Unaddressed, with_role
from backsmith.model.relations import Ambiguous, RelationGraph
from backsmith.model.schemas import deref
from backsmith.model.shapes import natural_key
from backsmith.model.types import (
    FieldType,
    Hop,
    HopKind,
    ItemShape,
    Kind,
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


def parameter_pointer(
    document: dict[str, Any],
    path: str,
    method: str,
    item: dict[str, Any],
    op: dict[str, Any],
    name: str,
) -> str:
    """The pointer of the parameter `name` where it is declared: the operation's list, then
    the path item's (the operation's own pointer when neither lists it)."""
    base = f"/paths/{escape(path)}"
    for where, holder in ((f"{base}/{method}", op), (base, item)):
        for index, raw in enumerate(holder.get("parameters") or []):
            param = deref(document, raw)
            if isinstance(param, dict) and param.get("name") == name and param.get("in") == "path":
                return f"{where}/parameters/{index}"
    return f"{base}/{method}"


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
        ext = param.get("x-backsmith") or {}
        declared = ext.get("filter")
        addresses = ext.get("column")
        params.append(
            Param(
                name=name,
                location=location,
                required=bool(param.get("required")) or location == ParamLocation.PATH,
                schema=schema if isinstance(schema, dict) else {},
                style=style,
                explode=param.get("explode", style == "form"),
                declared=declared if isinstance(declared, str) else None,
                addresses=addresses if isinstance(addresses, str) else None,
            )
        )
    return params


def refused(param: Param, reason: str) -> Param:
    """A query parameter that cannot be served: the rest of its operation still is."""
    return replace(param, role=ParamRole.REFUSED, reason=reason)


class ParamRoles:
    """Gives each parameter of a CRUD operation its role over the resource's table."""

    def __init__(self, graph: RelationGraph, resources: dict[str, Resource]) -> None:
        self.graph = graph
        self.paths = PathRoles(graph, resources)
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
        served_at: ServedAt = lambda path: None,
    ) -> tuple[Param, ...] | str | Unaddressed:
        """The parameters with roles, or why one cannot be given its role."""
        path_names = [s[1:-1] for s in segments if s.startswith("{") and s.endswith("}")]
        key_name = path_names[-1] if is_item and path_names else None
        in_path = [p for p in params if p.location == ParamLocation.PATH]
        parents = self.paths.parents(
            [p for p in in_path if p.name != key_name], resource, segments, served_at
        )
        if isinstance(parents, Unaddressed):
            return parents
        first_hops = [p.hops[0] for p in parents.values() if p.hops]
        if kind == Kind.CREATE and first_hops and first_hops[0].kind == HopKind.MANY:
            hop = first_hops[0]
            return f"cannot create {resource.table} under {hop.target}: the reference is on it"
        out: list[Param] = []
        for param in params:
            if param.location == ParamLocation.PATH:
                if param.name == key_name:
                    key = self.paths.key(param, resource, segments)
                    if isinstance(key, Unaddressed):
                        return key
                    out.append(key)
                else:
                    out.append(parents.get(param.name, param))
            elif param.location == ParamLocation.QUERY and kind == Kind.LIST:
                out.append(self._query_role(param, resource, shape))
            else:
                out.append(param)
        return tuple(out)

    def _query_role(self, param: Param, resource: Resource, shape: ItemShape) -> Param:
        if param.declared is not None:
            return self._declared_filter(param, resource, shape)
        name = snake(param.name)
        field = resource.field(param.name)
        if field is not None and not field.hidden and not field.write_only:
            if field.type in UNFILTERABLE:
                return refused(param, f"{field.column} is {field.type}, which has no equality")
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
        # ?favorited=true filters on the caller's `favorited`; ?favorited=ana (a string)
        # names whose favourites, through the relation below.
        boolean_only = member is not None and member.type == FieldType.BOOLEAN
        if (
            member is not None
            and member.computed is not None
            and (not boolean_only or "boolean" in param.types)
        ):
            return with_role(param, ParamRole.FILTER, None, computed=member)
        hop = self.graph.find(resource.table, name) or self._participle_hop(resource, name)
        target = self.graph.resource(hop.target) if hop is not None else None
        if hop is not None and target is not None:  # ?author=le-guin, ?genre=fantasy
            column = natural_key(target)
            if column is not None:
                return with_role(param, ParamRole.FILTER, column, hops=(hop,))
        return param

    def _participle_hop(self, resource: Resource, name: str) -> Hop | None:
        """?favorited=ana: the rows ana favourited, through the join table the participle
        names (favorites), to the rows of whoever did it."""
        for base in participle_bases(name):
            through = [
                hop
                for hop in self.graph.hops(resource.table)
                if hop.kind == HopKind.THROUGH and hop.join and names_match(base, hop.join)
            ]
            if len(through) == 1:
                return through[0]
        return None

    def _declared_filter(self, param: Param, resource: Resource, shape: ItemShape) -> Param:
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
            if ambiguous is not None:  # a contract error, said by the operation mapper
                self.ambiguous.append((param, Ambiguous(ambiguous)))
            return refused(param, f"filter '{declared}' names no column or relation path")
        hops, column = found
        target = self.graph.resource(hops[-1].target)
        if column is None and target is not None:
            column = natural_key(target)
        if column is None:
            return refused(param, f"filter '{declared}' needs a column at its end")
        return with_role(param, ParamRole.FILTER, column, hops=tuple(hops))


def _holds_token(param: Param) -> bool:
    """Whether a parameter can carry an opaque cursor: `?after=2016-01-27T08:38:55Z` is a
    date-time bound, and a cursor in it would be refused by its own schema."""
    declared = param.schema.get("type", "string")
    return declared == "string" and not param.schema.get("format")
