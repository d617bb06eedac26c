"""The relation graph: named hops from one table to another, and dotted paths over them.

A hop is how a response property, a filter or a computed field reaches related rows:
`book.author` follows the book's foreign key ("one"), `order.lines` follows a foreign key
that points back at the order ("many"), `book.genres` goes through a join table
("through"). Names come from the tables and foreign-key columns by convention, so a
contract that says `author`, `lines` or `genres` needs no declaration.
"""

from __future__ import annotations

from backsmith.model.naming import names_match, singular, snake
from backsmith.model.types import Generated, Hop, HopKind, Relation, Resource

ONE, MANY, THROUGH = HopKind.ONE, HopKind.MANY, HopKind.THROUGH


def is_join_table(resource: Resource) -> bool:
    """A table that only links two others: two foreign keys and nothing but keys and stamps."""
    if len(resource.relations) != 2 or len({r.target for r in resource.relations}) != 2:
        return False
    linked = {c for r in resource.relations for c in r.columns}
    for field in resource.fields:
        if field.column in linked or field.hidden:
            continue
        if field.primary_key or field.generated in (Generated.CREATED, Generated.UPDATED):
            continue
        return False
    return True


class RelationGraph:
    """All hops between the model's tables, found by name."""

    def __init__(self, resources: dict[str, Resource]) -> None:
        self.resources = resources
        self._by_table = {r.table: r for r in resources.values()}
        self._hops: dict[str, list[Hop]] = {table: [] for table in self._by_table}
        for resource in self._by_table.values():
            self._add_hops(resource)

    def resource(self, table: str) -> Resource | None:
        return self._by_table.get(table)

    def _add_hops(self, resource: Resource) -> None:
        join = is_join_table(resource)
        for relation in resource.relations:
            if relation.target not in self._hops:
                continue
            stem = relation.columns[0].removesuffix("_id") if len(relation.columns) == 1 else ""
            names = tuple(n for n in (stem, singular(relation.target)) if n)
            self._hops[resource.table].append(
                Hop(
                    ONE,
                    resource.table,
                    relation.target,
                    relation.columns,
                    relation.target_columns,
                    names=names,
                )
            )
            back_names = [resource.table]
            if not join:
                # order_lines seen from orders is also just "lines"
                prefix = f"{singular(relation.target)}_"
                if resource.table.startswith(prefix):
                    back_names.append(resource.table.removeprefix(prefix))
            self._hops[relation.target].append(
                Hop(
                    MANY,
                    relation.target,
                    resource.table,
                    relation.target_columns,
                    relation.columns,
                    names=tuple(back_names),
                )
            )
        if join:
            first, second = resource.relations
            self._add_through(resource, first, second)
            self._add_through(resource, second, first)

    def _add_through(self, join: Resource, near: Relation, far: Relation) -> None:
        if near.target not in self._hops or far.target not in self._hops:
            return
        names = [far.target]
        prefix = f"{singular(near.target)}_"
        if join.table.startswith(prefix):
            names.append(join.table.removeprefix(prefix))  # book_genres from books: "genres"
        stem = far.columns[0].removesuffix("_id") if len(far.columns) == 1 else ""
        if stem and stem != singular(far.target):
            names.append(stem)  # wishlists(user_id -> accounts) from books: "users"
        self._hops[near.target].append(
            Hop(
                THROUGH,
                near.target,
                far.target,
                near.target_columns,
                far.target_columns,
                join=join.table,
                join_source=near.columns,
                join_target=far.columns,
                names=tuple(names),
            )
        )

    def hops(self, table: str) -> list[Hop]:
        return self._hops.get(table, [])

    def find(self, table: str, name: str, to_many: bool | None = None) -> Hop | None:
        """The hop from `table` that `name` (a property, a segment, a dotted step) names."""
        wanted = snake(name)
        candidates = [h for h in self.hops(table) if to_many is None or h.to_many == to_many]
        for exact in (True, False):
            found = [
                hop
                for hop in candidates
                if any((n == wanted) if exact else names_match(wanted, n) for n in hop.names)
            ]
            if len(found) == 1:
                return found[0]
            if found:
                # two hops share a name (two foreign keys to one table): the direct one wins
                direct = [h for h in found if h.kind != THROUGH]
                return direct[0] if len(direct) == 1 else None
        return None

    def to_target(self, table: str, target: str, to_many: bool | None = None) -> Hop | None:
        """The only hop from `table` to `target`, if exactly one exists."""
        found = [
            hop
            for hop in self.hops(table)
            if hop.target == target and (to_many is None or hop.to_many == to_many)
        ]
        if len(found) > 1:
            found = [h for h in found if h.kind != THROUGH] or found
        return found[0] if len(found) == 1 else None

    def path(self, table: str, dotted: str) -> tuple[list[Hop], str | None] | None:
        """`author.handle` -> ([hop to authors], "handle"); the last part may name a column.

        Returns None when a step names no hop. The column part is None when the path ends on
        a table (`wishlists`).
        """
        hops: list[Hop] = []
        current = table
        parts = [p for p in dotted.split(".") if p]
        for index, part in enumerate(parts):
            hop = self.find(current, part)
            if hop is None:
                resource = self._by_table.get(current)
                field = resource.field(part) if resource is not None else None
                if field is not None and hops and index == len(parts) - 1:
                    return hops, field.column
                return None
            hops.append(hop)
            current = hop.target
        return hops, None
