"""Rows that belong to the caller: the conditions and values an owned resource adds.

Reads, changes and deletes of another owner's row find no row, so they answer 404 and
never 403: whether an id exists is not told to someone who may not see it. Lists show the
caller's rows only. A create takes its owner from the caller, and a body naming another
owner is refused, as is a change that would hand a row to someone else. Callers with an
admin role see and change every row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from backsmith.errors import NotFound, ValidationFailed
from backsmith.model.types import Owner
from backsmith.security.tokens import Principal
from backsmith.storage.database import Connection
from backsmith.storage.related import caller_value, reaches


def narrow(equals: dict[str, Any], owned: Mapping[str, Any], where: list[Any]) -> None:
    """Add the owner's equalities; one that contradicts the address (another's id) finds
    no row, rather than replacing it (which would answer with the caller's own row)."""
    for column, value in owned.items():
        if column in equals and equals[column] != value:
            where.append(sa.false())
        else:
            equals[column] = value


class Ownership:
    """One owned table's rules, compiled once."""

    def __init__(self, owner: Owner, table: sa.Table, tables: Mapping[str, sa.Table]) -> None:
        self.owner = owner
        self.table = table
        self.tables = tables
        hops = owner.hops
        # The column whose type the caller's subject is converted to.
        self.owner_column = (tables[hops[-1].target] if hops else table).c[owner.column]
        # The reference that decides the owner of an owned-through row (order_id of a line).
        self.reference = hops[0].source_columns[0] if hops else None

    def value(self, principal: Principal) -> Any:
        """The caller's subject as a value of the owner column; None when it cannot be one."""
        return caller_value(self.owner_column, principal.subject)

    def conditions(self, principal: Principal) -> tuple[dict[str, Any], list[Any]]:
        """Equalities and clauses that keep a statement to the caller's rows."""
        value = self.value(principal)
        if value is None:
            return {}, [sa.false()]  # a subject no row can name owns nothing
        if not self.owner.hops:
            return {self.owner.column: value}, []
        owned = reaches(self.tables, self.table, self.owner.hops, self.owner.column, value)
        return {}, [owned]

    def refuse_other_owner(
        self,
        values: Mapping[str, Any],
        body: Mapping[str, Any],
        principal: Principal,
        names: Mapping[str, str],
        at: str,
    ) -> None:
        """422 when a body names an owner other than the caller (a direct owner column).

        Only what the body sent counts: a default filled in for an absent owner is not a
        claim to be someone else.
        """
        column = self.owner.column
        name = names.get(column, column)
        if self.owner.hops or column not in values or name not in body:
            return
        if self.owner.ignore_supplied:  # the caller's value replaces it (create, change)
            return
        if values[column] != self.value(principal):
            detail = f"'{name}' is set from the caller's credentials and cannot name another"
            raise ValidationFailed([{"detail": detail, "pointer": f"{at}/{name}"}])

    async def require_owned_reference(
        self,
        conn: Connection,
        values: Mapping[str, Any],
        principal: Principal,
        from_path: bool,
        names: Mapping[str, str],
        at: str,
    ) -> None:
        """A row owned through a reference may only refer to a row the caller owns."""
        if self.reference is None or values.get(self.reference) is None:
            return
        hops = self.owner.hops
        first = hops[0]
        target = self.tables[first.target]
        value = self.value(principal)
        if value is None:
            owned: Any = sa.false()
        elif len(hops) == 1:
            owned = target.c[self.owner.column] == value
        else:
            owned = reaches(self.tables, target, hops[1:], self.owner.column, value)
        query = sa.select(sa.literal(1)).where(
            target.c[first.target_columns[0]] == values[self.reference], owned
        )
        if (await conn.execute(query)).first() is not None:
            return
        if from_path:
            raise NotFound("No parent item matches the path.")
        name = names.get(self.reference, self.reference)
        detail = f"'{name}' refers to no item the caller may use"
        raise ValidationFailed([{"detail": detail, "pointer": f"{at}/{name}"}])
