"""The relation graph: named hops from one table to another, and dotted paths over them.

A hop is how a response property, a filter or a computed field reaches related rows:
`book.author` follows the book's foreign key ("one"), `order.lines` follows a foreign key
that points back at the order ("many"), `book.genres` goes through a join table
("through"). Names come from the tables and foreign-key columns by convention, so a
contract that says `author`, `lines` or `genres` needs no declaration.

A join table whose two references point at one table (`follows(follower_id, followed_id)`
on customers) links that table to itself, once per direction; each direction is named by
the column at its far end: a customer's `followers` (through followed_id, ending at
follower_id) and the customers it `followed`. Where a name still fits two hops (the
`follows` rows of a customer), `explain` says which columns and how to name one;
`x-backsmith: {relations: {following: follows.follower_id}}` on a schema declares a name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from backsmith.model.naming import names_match, plural, singular, snake
from backsmith.model.types import Generated, Hop, HopKind, Relation, Resource

ONE, MANY, THROUGH = HopKind.ONE, HopKind.MANY, HopKind.THROUGH


def is_join_table(resource: Resource) -> bool:
    """A table that only links two others (or one to itself): two foreign keys and nothing
    but keys and stamps."""
    if len(resource.relations) != 2:
        return False
    linked = {c for r in resource.relations for c in r.columns}
    for field in resource.fields:
        if field.column in linked or field.hidden:
            continue
        if field.primary_key or field.generated in (Generated.CREATED, Generated.UPDATED):
            continue
        return False
    return True


class Ambiguous(str):
    """Why a declared path names no relation: a step fits two (see `explain`). A contract
    error where other reasons make an operation custom: the contract asked for a relation
    and only its author can say which."""

    __slots__ = ()


# Declared relation names: by source table, name -> (rows table, its column referring back).
Declared = Mapping[str, Mapping[str, tuple[str, str]]]


class RelationGraph:
    """All hops between the model's tables, found by name."""

    def __init__(self, resources: dict[str, Resource], declared: Declared | None = None) -> None:
        self.resources = resources
        self._by_table = {r.table: r for r in resources.values()}
        self._hops: dict[str, list[Hop]] = {table: [] for table in self._by_table}
        for resource in self._by_table.values():
            self._add_hops(resource)
        self._declared: dict[tuple[str, str], Hop] = {}
        for table, names in (declared or {}).items():
            for name, (rows, column) in names.items():
                self._declare(table, name, rows, column)

    def declared_hop(self, table: str, rows: str, column: str) -> Hop | None:
        """The to-many hop from `table` to the `rows` whose `column` refers to it: through
        `rows` to the far table when `rows` is a join table, else to `rows` themselves."""
        hops = self.hops(table)
        through = [h for h in hops if h.join == rows and h.join_source == (column,)]
        many = [h for h in hops if h.kind == MANY and h.target == rows]
        many = [h for h in many if h.target_columns == (column,)]
        found = through or many
        return found[0] if len(found) == 1 else None

    def _declare(self, table: str, name: str, rows: str, column: str) -> None:
        hop = self.declared_hop(table, rows, column)
        if hop is None:
            return
        named = replace(hop, names=(snake(name), *hop.names))
        hops = self._hops[table]
        hops[hops.index(hop)] = named
        self._declared[(table, snake(name))] = named

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
        stem = far.columns[0].removesuffix("_id") if len(far.columns) == 1 else ""
        if near.target == far.target:
            # A table linked to itself: both directions end at the same table, so only the
            # far column tells them apart (follows from a customer: followers, followed).
            names = list(dict.fromkeys((_group(stem), stem))) if stem else []
        else:
            names = [far.target]
            prefix = f"{singular(near.target)}_"
            if join.table.startswith(prefix):
                names.append(join.table.removeprefix(prefix))  # book_genres from books: "genres"
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
        declared = self._declared.get((table, wanted))
        if declared is not None and (to_many is None or declared.to_many == to_many):
            return declared
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
                last = index == len(parts) - 1
                resource = self._by_table.get(current)
                field = resource.field(part) if resource is not None else None
                if field is not None and hops and last:
                    return hops, field.column
                if hops and last and hops[-1].join_target == (snake(part),):
                    # followers.follower_id: the join table's column naming the far row
                    return hops, hops[-1].target_columns[0]
                return None
            hops.append(hop)
            current = hop.target
        return hops, None

    def reverse(self, hop: Hop) -> Hop | None:
        """The hop back from `hop`'s target to its source along the same columns."""
        for back in self.hops(hop.target):
            if back.target != hop.source or back.join != hop.join:
                continue
            if hop.kind == THROUGH:
                same = back.join_source == hop.join_target and back.join_target == hop.join_source
            else:
                same = back.kind != THROUGH and back.kind != hop.kind
                same = same and back.target_columns == hop.source_columns
            if same:
                return back
        return None

    def names(self, table: str, to_many: bool | None = None) -> list[str]:
        """The names that each find one hop from `table`, for messages listing them."""
        found = set()
        for hop in self.hops(table):
            if to_many is not None and hop.to_many != to_many:
                continue
            name = next((n for n in hop.names if self.find(table, n, to_many) == hop), None)
            if name is not None:
                found.add(name)
        return sorted(found)

    def explain(self, table: str, dotted: str, to_many: bool | None = None) -> str | None:
        """Why `dotted` reaches nothing from `table` when one of its steps fits two hops:
        which columns each would follow and how to name one. None when no step is ambiguous.

        `to_many` applies to the first step, as `find` applies it.
        """
        current = table
        for index, part in enumerate(p for p in dotted.split(".") if p):
            wanted = to_many if index == 0 else None
            hop = self.find(current, part, wanted)
            if hop is not None:
                current = hop.target
                continue
            fitting = self._fitting(current, snake(part), wanted)
            if len(fitting) < 2:
                return None
            return self._ambiguity(current, part, fitting)
        return None

    def _fitting(self, table: str, wanted: str, to_many: bool | None) -> list[Hop]:
        candidates = [h for h in self.hops(table) if to_many is None or h.to_many == to_many]
        for exact in (True, False):
            found = [
                hop
                for hop in candidates
                if any((n == wanted) if exact else names_match(wanted, n) for n in hop.names)
            ]
            if found:
                return found
        return []

    def _ambiguity(self, table: str, part: str, hops: list[Hop]) -> str:
        ways = [_columns_of(hop) for hop in hops]
        named = []
        for hop, way in zip(hops, ways, strict=True):
            name = self._unique_name(table, hop)
            if name is not None:
                named.append(f"'{name}' (by {way})")
        resource = self._by_table.get(table)
        schema = resource.schema if resource is not None and resource.schema else None
        where = f"schema {schema}" if schema else f"the schema of {table}"
        many = [h for h in hops if h.kind != ONE]
        rows = (many[0].join or many[0].target) if many else None
        declare = (
            f"declare one on {where} with x-backsmith: {{relations: {{<name>: {rows}.<column>}}}}"
            if rows
            else ""
        )
        hint = " or ".join(named)
        if hint and declare:
            advice = f"write {hint}, or {declare}"
        else:
            advice = f"write {hint}" if hint else declare or "name the column instead"
        return f"'{part}' from {table} is ambiguous: it fits {' and '.join(ways)}; {advice}"

    def _unique_name(self, table: str, hop: Hop) -> str | None:
        """A name `find` resolves to `hop`, or to the hop through the same join rows."""
        same = [hop]
        if hop.kind == MANY:  # the rows of a join table: named by the hop through them
            same += [h for h in self.hops(table) if h.join == hop.target]
            same = [h for h in same if h.kind == MANY or h.join_source == hop.target_columns]
        for candidate in same:
            for name in candidate.names:
                if self.find(table, name) == candidate:
                    return name
        return None


def _group(stem: str) -> str:
    """A to-many relation's name from the column at its far end: follower -> followers; a
    participle names its group as it is (followed, blocked)."""
    return stem if stem.endswith("ed") else plural(stem)


def _columns_of(hop: Hop) -> str:
    """The column a hop follows, as `table.column`."""
    if hop.kind == THROUGH:
        return f"{hop.join}.{hop.join_source[0]}"
    if hop.kind == MANY:
        return f"{hop.target}.{hop.target_columns[0]}"
    return f"{hop.source}.{hop.source_columns[0]}"
