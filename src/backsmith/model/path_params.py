"""Path parameters: the item key, and the parents a nested path names.

`/authors/{handle}/books/{slug}/reviews/{id}` names a review by `id`, under the book with
that `slug`, under the author with that `handle`. Each parent parameter addresses its own
resource (by the column its name says), reached from the operation's rows along the
relations the path follows; it never addresses a column of the rows themselves unless no
resource answers to it. A parent of the rows' own table (`/customers/{handle}/followers`)
is reached back along the relation the segment after it names, which says the direction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from backsmith.model.naming import snake
from backsmith.model.paths import addressed_column, key_column, resource_of_segment
from backsmith.model.relations import RelationGraph
from backsmith.model.types import Hop, HopKind, Member, Param, ParamRole, Resource

# The resource an item path (`/books/{slug}`) serves, judged by its own operations.
ServedAt = Callable[[str], Resource | None]


@dataclass(frozen=True, slots=True)
class Unaddressed:
    """A path parameter no column answers to: the operation needs a declaration."""

    parameter: str
    reason: str
    fix: str


def _declared(resource: Resource, param: Param) -> str | Unaddressed | None:
    """The column `x-backsmith: {column: ...}` on the parameter names, if it declares one."""
    if param.addresses is None:
        return None
    field = resource.field(param.addresses)
    if field is None:
        reason = (
            f"path parameter '{param.name}' declares column '{param.addresses}', "
            f"which {resource.table} does not have"
        )
        return Unaddressed(param.name, reason, f"name a column of {resource.table}")
    return field.column


def _unaddressed(param: Param, resource: Resource) -> Unaddressed:
    reason = f"path parameter '{param.name}' names no column of {resource.table}"
    shown = [f.name for f in resource.fields if not f.hidden][:6]
    if resource.source == "dbml":
        add = f"add a column '{snake(param.name)}' to table {resource.table}"
    else:
        add = f"add the property '{param.name}' to {resource.schema or resource.table}"
    fix = (
        f"{add}, or declare the column it addresses with x-backsmith: {{column: ...}} on "
        f"the parameter (one of {', '.join(shown)})"
    )
    return Unaddressed(param.name, reason, fix)


class PathRoles:
    """Gives a CRUD operation's path parameters their roles: the item key and parent scopes."""

    def __init__(self, graph: RelationGraph, resources: dict[str, Resource]) -> None:
        self.graph = graph
        self.resources = resources

    def key(self, param: Param, resource: Resource, segments: list[str]) -> Param | Unaddressed:
        """The item path's last parameter: the key, or a unique column of the resource."""
        declared = _declared(resource, param)
        if isinstance(declared, Unaddressed):
            return declared
        index = segments.index(f"{{{param.name}}}")
        segment = segments[index - 1] if index > 0 else ""
        column = declared or key_column(resource, param.name, segment, param.schema)
        if column is None:
            if addressed_column(resource, param.name, segment, param.schema) is not None:
                reason = (
                    f"path parameter '{param.name}' names a column of {resource.table} "
                    "that is not unique"
                )
                fix = "make the column unique in the data model, or address rows by the key"
                return Unaddressed(param.name, reason, fix)
            return _unaddressed(param, resource)
        return with_role(param, ParamRole.KEY, column)

    def parents(
        self,
        params: list[Param],
        resource: Resource,
        segments: list[str],
        served_at: ServedAt,
    ) -> dict[str, Param] | Unaddressed:
        """Each parent parameter with its scope, innermost parent first.

        The innermost parent is reached by the rows' own reference to it (`reviews.book_id`);
        an outer one along the hops of the parents inside it, so each is one semi-join.
        """
        found: dict[str, Param] = {}
        child: Resource = resource
        chain: tuple[Hop, ...] = ()
        by_name = {p.name: p for p in params}
        for index in reversed(range(len(segments))):
            name = segments[index][1:-1]
            if not segments[index].startswith("{") or name not in by_name:
                continue
            param = by_name[name]
            segment = segments[index - 1] if index > 0 else ""
            if segment.startswith("{"):
                segment = ""
            prefix = "/" + "/".join(segments[: index + 1])
            parent = served_at(prefix) or served_at(f"{prefix}/")
            if parent is None and segment:
                parent = resource_of_segment(self.resources, segment)
            hop = self._back_to_self(child, parent, segments, index)
            hop = hop or self._hop(child, parent, segment)
            if hop is None:
                if chain:  # an outer parent must be reached through the inner ones
                    return Unaddressed(
                        name,
                        f"path parameter '{name}' names rows {child.table} has no relation to",
                        "declare the reference in the data model",
                    )
                scoped = self._own_column(param, resource, parent)
                if isinstance(scoped, Unaddressed):
                    return scoped
                found[name] = scoped
                continue
            target = self.graph.resource(hop.target)
            assert target is not None
            declared = _declared(target, param)
            if isinstance(declared, Unaddressed):
                return declared
            column = declared or addressed_column(target, name, segment, param.schema)
            if column is None:
                return _unaddressed(param, target)
            hops = (*chain, hop)
            if len(hops) == 1 and hop.kind == HopKind.ONE and (column,) == hop.target_columns:
                found[name] = _scope(param, hop.source_columns[0])  # reviews.book_id = {bookId}
            else:
                found[name] = _scope(param, column, hops)
            child, chain = target, hops
        return found

    def _back_to_self(
        self, child: Resource, parent: Resource | None, segments: list[str], index: int
    ) -> Hop | None:
        """/customers/{handle}/followers: rows of the parent's own table, reached from the
        parent by the relation the next segment names; the hop back from a listed row (the
        table alone cannot tell a customer's followers from the customers it follows)."""
        named = segments[index + 1] if index + 1 < len(segments) else ""
        if parent is None or parent.table != child.table or not named or named.startswith("{"):
            return None
        forward = self.graph.find(parent.table, named, to_many=True)
        if forward is None or forward.target != child.table:
            return None
        return self.graph.reverse(forward)

    def _hop(self, child: Resource, parent: Resource | None, segment: str) -> Hop | None:
        """The relation from `child` rows to the `parent` a path segment names."""
        graph = self.graph
        if parent is None:
            if not segment:
                return None
            return graph.find(child.table, segment, to_many=False) or graph.find(
                child.table, segment
            )
        for to_many in (False, None):
            hop = graph.find(child.table, segment, to_many=to_many) if segment else None
            if hop is not None and hop.target == parent.table:
                return hop
            hop = graph.to_target(child.table, parent.table, to_many=to_many)
            if hop is not None:
                return hop
        return None

    def _own_column(
        self, param: Param, resource: Resource, parent: Resource | None
    ) -> Param | Unaddressed:
        """A parent no relation reaches: a column of the rows themselves, never their key.

        `/projects/{project_id}/tasks` with no projects table scopes by `tasks.project_id`;
        `/{id}/events` must not scope events by their own `id`, nor `/categories/{slug}/docs`
        docs by their own slug.
        """
        field = resource.field(param.addresses or param.name)
        # A key or unique column names one row: a collection is never scoped by it.
        if field is not None and not (field.hidden or field.primary_key or field.unique):
            return _scope(param, field.column)
        if parent is not None and parent.table != resource.table:
            reason = (
                f"path parameter '{param.name}' names a row of {parent.table}, "
                f"and {resource.table} has no reference to {parent.table}"
            )
            fix = f"declare the reference from {resource.table} to {parent.table}"
            return Unaddressed(param.name, reason, fix)
        reason = f"cannot tell which column path parameter '{param.name}' scopes"
        return Unaddressed(param.name, reason, _unaddressed(param, resource).fix)


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


def _scope(param: Param, column: str, hops: tuple[Hop, ...] = ()) -> Param:
    return with_role(param, ParamRole.SCOPE, column, hops)
