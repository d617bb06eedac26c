"""Hops across relations, and the values computed over the rows they reach.

Part of the model (`backsmith.model.types` re-exports both): a hop is one step of the
relation graph (`backsmith.model.relations`), a computed value counts, sums or asks about
the rows one hop reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

from backsmith.model.kinds import HopKind


@dataclass(frozen=True, slots=True)
class Hop:
    """One step from `source` rows to related `target` rows.

    one:     source.source_columns = target.target_columns (the foreign key is on source)
    many:    source.source_columns = target.target_columns (the foreign key is on target)
    through: source.source_columns = join.join_source and join.join_target =
             target.target_columns (a join table links the two)
    """

    kind: HopKind
    source: str
    target: str
    source_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    join: str | None = None
    join_source: tuple[str, ...] = ()
    join_target: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def to_many(self) -> bool:
        return self.kind != HopKind.ONE

    def describe(self) -> str:
        if self.kind == HopKind.THROUGH:
            by = f" by {self.join_source[0]}" if self.source == self.target else ""
            return f"{self.target} through {self.join}{by}"
        one = self.kind == HopKind.ONE
        columns = ", ".join(self.source_columns if one else self.target_columns)
        return f"{self.target} by {columns}"


@dataclass(frozen=True, slots=True)
class Computed:
    """A value computed in SQL from related rows, never stored."""

    function: str  # count, exists, sum
    hop: Hop  # many (rows of the target) or through (rows of the join table)
    terms: tuple[str, ...] = ()  # sum: columns multiplied together, on the target table
    caller_column: str | None = None  # exists: the column of the related rows naming the caller

    def describe(self) -> str:
        hop = self.hop
        rows = hop.join if hop.kind == HopKind.THROUGH else hop.target
        if hop.source == hop.target:  # a table linked to itself: say which direction
            rows = f"{rows} by {(hop.join_source or hop.target_columns)[0]}"
        if self.function == "sum":
            return f"sum({' * '.join(self.terms)}) over {self.hop.target}"
        if self.function == "exists":
            return f"exists({rows} where {self.caller_column} = caller)"
        return f"count({rows})"
