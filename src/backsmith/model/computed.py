"""Computed members: counts, caller `exists` and sums over related rows, declared or by name.

A computed property is never stored: `wishlistedCount` is a `count` over the rows a
relation reaches, `wishlisted` an `exists` of the caller's own row there, `total` a `sum`
of a product of columns. Each is compiled to a correlated subquery downstream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backsmith.model.naming import singular, snake
from backsmith.model.relations import MANY, ONE, THROUGH, RelationGraph
from backsmith.model.schemas import schema_types
from backsmith.model.types import Computed, FieldType, Hop, Member, Resource

EXTENSION = "x-backsmith"
FUNCTIONS = ("count", "exists", "sum")


class ComputedReader:
    """Reads one declared computed property; problems go to `problem(message, pointer)`."""

    def __init__(
        self,
        graph: RelationGraph,
        problem: Callable[[str, str], None],
        hop_names: Callable[[str, bool], str],
    ) -> None:
        self.graph = graph
        self.problem = problem
        self.hop_names = hop_names

    def member(
        self,
        resource: Resource,
        name: str,
        prop: dict[str, Any],
        ext: dict[str, Any],
        where: str,
        functions: list[str],
    ) -> Member | None:
        if len(functions) > 1:
            self.problem(f"declare one of count, exists or sum, not {functions}", where)
            return None
        function = functions[0]
        value = ext[function]
        pointer = f"{where}/{EXTENSION}/{function}" if "computed" not in where else where
        if not isinstance(value, str):
            self.problem(f"'{function}' must name a relation path", pointer)
            return None
        ftype = {
            "count": FieldType.INTEGER,
            "exists": FieldType.BOOLEAN,
        }.get(function, _number_type(prop))
        if function == "sum":
            computed = self._sum(resource, value, pointer)
        else:
            computed = self._count_or_exists(resource, function, value, pointer)
        if computed is None:
            return None
        return Member(name, "computed", type=ftype, computed=computed)

    def _count_or_exists(
        self, resource: Resource, function: str, value: str, pointer: str
    ) -> Computed | None:
        found = self.graph.path(resource.table, value)
        if found is None or len(found[0]) != 1 or found[0][0].kind == ONE:
            self.problem(
                self.graph.explain(resource.table, value, to_many=True)
                or f"'{value}' names no to-many relation of {resource.table} "
                f"(e.g. {self.hop_names(resource.table, True)})",
                pointer,
            )
            return None
        hop, column = found[0][0], found[1]
        if function == "count":
            return count(hop)
        caller_column = column or caller_column_of(self.graph, hop)
        if caller_column is None:
            self.problem(
                f"cannot tell which column of {hop.join or hop.target} names the caller; "
                f"write '{value}.<column>'",
                pointer,
            )
            return None
        return Computed("exists", hop, caller_column=caller_column)

    def _sum(self, resource: Resource, value: str, pointer: str) -> Computed | None:
        hop: Hop | None = None
        terms: list[str] = []
        for term in (t.strip() for t in value.split("*")):
            found = self.graph.path(resource.table, term)
            if found is None or len(found[0]) != 1 or found[1] is None or found[0][0].kind == ONE:
                self.problem(
                    self.graph.explain(resource.table, term, to_many=True)
                    or f"sum term '{term}' must be <relation>.<column> over a to-many relation "
                    f"of {resource.table}",
                    pointer,
                )
                return None
            if hop is not None and found[0][0] != hop:
                self.problem("every term of a sum must come from the same relation", pointer)
                return None
            hop = found[0][0]
            terms.append(found[1])
        assert hop is not None
        return Computed("sum", hop, terms=tuple(terms))


def count(hop: Hop) -> Computed:
    return Computed("count", hop)


def caller_column_of(graph: RelationGraph, hop: Hop) -> str | None:
    """In the rows an `exists` looks at, the foreign key that is not the way back."""
    if hop.kind == THROUGH:
        return hop.join_target[0]
    if hop.kind == MANY:
        rows = graph.resource(hop.target)
        if rows is None:
            return None
        others = [r for r in rows.relations if r.columns != hop.target_columns]
        if len(others) == 1:
            return others[0].columns[0]
        named = [r for r in others if singular(r.target) in ("user", "account", "member")]
        return named[0].columns[0] if len(named) == 1 else None
    return None


def participle_bases(name: str) -> list[str]:
    """What a past participle may be made from: `favorited` -> favorite, favorit; `starred`
    -> starre, starr, star; none for a name that is not one."""
    stem = snake(name)
    for prefix in ("is_", "has_"):
        stem = stem.removeprefix(prefix)
    if not stem.endswith("ed") or len(stem) < 4:
        return []
    bases = [stem[:-1], stem[:-2]]  # favorite-d, bookmark-ed
    if stem[-3] == stem[-4]:
        bases.append(stem[:-3])  # star-red
    return bases


def participle_exists(graph: RelationGraph, table: str, name: str) -> Computed | None:
    """`favorited`, `wishlisted`, `isLiked`, `bookmarked`: whether the caller has a row in the
    relation the name is the past participle of (favorites, wishlists, likes, bookmarks)."""
    for base in participle_bases(name):
        hop = graph.find(table, base, to_many=True)
        if hop is None:
            continue
        column = caller_column_of(graph, hop)
        return Computed("exists", hop, caller_column=column) if column else None
    return None


def _number_type(prop: dict[str, Any]) -> FieldType:
    types = schema_types(prop)
    if "integer" in types:
        return FieldType.INTEGER
    if "string" in types:
        return FieldType.DECIMAL
    return FieldType.NUMBER
