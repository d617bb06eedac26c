"""Rows that belong to the caller: the conditions and values an owned resource adds.

Private rows (the default): reads, changes and deletes of another owner's row find no
row, so they answer 404 and never 403: whether an id exists is not told to someone who
may not see it. Lists show the caller's rows only. Public rows (`visibility: public`):
anyone reads and lists them, so reads are not narrowed at all, and a change or delete of
another owner's row answers 403, since hiding a row everyone can read gains nothing.
Either way a create takes its owner from the caller, a body naming another owner is
refused, as is a change that would hand a row to someone else, and callers with an admin
role see and change every row.

Each operation compiles one `Owners` at start-up: the rule of its own rows, of the
parents its path names and of a link's two ends, each left out where the operation only
reads public rows. An owner reached through references (a line through its order) is one
clause built once, the caller's value bound per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from backsmith.errors import Forbidden, NotFound, ValidationFailed
from backsmith.model.types import Owner
from backsmith.security.access import missing
from backsmith.security.tokens import Principal
from backsmith.storage.database import Connection
from backsmith.storage.queries import TableQueries
from backsmith.storage.related import caller_value, reaches


def narrow(equals: dict[str, Any], owned: Mapping[str, Any], where: list[Any]) -> None:
    """Add the owner's equalities; one that contradicts the address (another's id) finds
    no row, rather than replacing it (which would answer with the caller's own row)."""
    for column, value in owned.items():
        if column in equals and equals[column] != value:
            where.append(sa.false())
        else:
            equals[column] = value


# The bound names of the caller's owner value and of a reference a body names.
OWNER_PARAM = "bs_owner"
REFERENCE_PARAM = "bs_reference"


@dataclass(frozen=True, slots=True)
class Address:
    """A statement's conditions before the owner's were added: finding a row by them
    tells another owner's public row (403) from no row at all (404)."""

    equals: dict[str, Any]
    where: list[Any]
    params: dict[str, Any]


class Ownership:
    """One owned table's rules, compiled once."""

    def __init__(
        self,
        owner: Owner,
        table: sa.Table,
        tables: Mapping[str, sa.Table],
        admin_roles: frozenset[str] = frozenset(),
    ) -> None:
        self.owner = owner
        self.table = table
        self.tables = tables
        self.admin_roles = admin_roles
        self.public = owner.public
        hops = owner.hops
        # The column whose type the caller's subject is converted to.
        self.owner_column = (tables[hops[-1].target] if hops else table).c[owner.column]
        # The reference that decides the owner of an owned-through row (order_id of a line).
        self.reference = hops[0].source_columns[0] if hops else None
        owner_value = sa.bindparam(OWNER_PARAM, type_=self.owner_column.type)
        self.clause = reaches(tables, table, hops, owner.column, owner_value) if hops else None
        self.reference_query = None
        self.reference_exists = None  # the referred row, whoever owns it (public rows)
        if hops:
            first = hops[0]
            target = tables[first.target]
            owned = (
                target.c[owner.column] == owner_value
                if len(hops) == 1
                else reaches(tables, target, hops[1:], owner.column, owner_value)
            )
            key = target.c[first.target_columns[0]]
            referred = key == sa.bindparam(REFERENCE_PARAM, type_=key.type)
            self.reference_query = sa.select(sa.literal(1)).where(referred, owned)
            self.reference_exists = sa.select(sa.literal(1)).where(referred)

    def sees_all(self, principal: Principal | None) -> bool:
        """Whether the caller holds a role that sees every owner's rows."""
        return principal is not None and bool(principal.roles & self.admin_roles)

    def narrow(
        self,
        principal: Principal | None,
        equals: dict[str, Any],
        where: list[Any],
        params: dict[str, Any],
    ) -> None:
        """Keep a statement to the caller's rows (all rows for an admin); 401 when anonymous."""
        if principal is None:
            raise missing()
        if principal.roles & self.admin_roles:
            return
        value = self.value(principal)
        if value is None:
            where.append(sa.false())  # a subject no row can name owns nothing
        elif self.clause is None:
            narrow(equals, {self.owner.column: value}, where)
        else:
            where.append(self.clause)
            params[OWNER_PARAM] = value

    def narrow_change(
        self,
        principal: Principal | None,
        equals: dict[str, Any],
        where: list[Any],
        params: dict[str, Any],
    ) -> Address | None:
        """Keep a change or delete to the caller's rows, as `narrow`; for public rows, also
        the address as it was, to tell another owner's row (403) from none (404)."""
        address = Address(dict(equals), list(where), dict(params)) if self.public else None
        self.narrow(principal, equals, where, params)
        return address

    async def refuse_visible(
        self, conn: Connection, queries: TableQueries, address: Address | None
    ) -> None:
        """403 when a change found no row of the caller's but the row is there to read."""
        if address is None:
            return
        found = await queries.fetch_one(
            conn, address.equals, where=address.where, params=address.params
        )
        if found is not None:
            raise others_row()

    def own_new_row(
        self,
        principal: Principal | None,
        given: dict[str, Any],
        body: Mapping[str, Any],
        names: Mapping[str, str],
        at: str,
    ) -> bool:
        """Give a new row the caller as its owner; whether its parent's owner is still to check."""
        if principal is None:
            raise missing()
        column = self.owner.column
        if self.sees_all(principal):
            if not self.owner.hops and given.get(column) is None:
                given[column] = self.value(principal)
            return False
        if self.owner.hops:
            return True
        self.refuse_other_owner(given, body, principal, names, at)
        value = self.value(principal)
        if value is None:
            raise Forbidden("Not allowed: the caller's credentials name no possible owner.")
        given[column] = value
        return False

    def claim_change(
        self,
        principal: Principal | None,
        values: Mapping[str, Any],
        body: Mapping[str, Any],
        names: Mapping[str, str],
        at: str,
    ) -> bool:
        """Refuse a change handing the row to another owner; whether the reference it sets
        (a line moved to another order) is still to check against the caller's rows."""
        if principal is None or self.sees_all(principal):
            return False
        self.refuse_other_owner(values, body, principal, names, at)
        return self.reference in values

    def value(self, principal: Principal) -> Any:
        """The caller's subject as a value of the owner column; None when it cannot be one."""
        return caller_value(self.owner_column, principal.subject)

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
        principal: Principal | None,
        from_path: bool,
        names: Mapping[str, str],
        at: str,
    ) -> None:
        """A row owned through a reference may only refer to a row the caller owns."""
        if principal is None:  # only an identified caller can own the row referred to
            raise missing()
        if self.reference is None or values.get(self.reference) is None:
            return
        assert self.reference_query is not None
        value = self.value(principal)
        bound = {OWNER_PARAM: value, REFERENCE_PARAM: values[self.reference]}
        if value is not None and (await conn.execute(self.reference_query, bound)).first():
            return
        name = names.get(self.reference, self.reference)
        if self.public and self.reference_exists is not None:
            referred = {REFERENCE_PARAM: values[self.reference]}
            if (await conn.execute(self.reference_exists, referred)).first():
                raise others_row(f"rows under it belong to its owner ('{name}')")
        if from_path:
            raise NotFound("No parent item matches the path.")
        detail = f"'{name}' refers to no item the caller may use"
        raise ValidationFailed([{"detail": detail, "pointer": f"{at}/{name}"}])


def others_row(why: str = "only its owner may change it") -> Forbidden:
    """The answer to a change of a public row that belongs to another caller."""
    return Forbidden(f"Not allowed: the item belongs to another caller; {why}.")


def rule(
    owner: Owner | None,
    table: sa.Table,
    tables: Mapping[str, sa.Table],
    admin_roles: frozenset[str],
    reads: bool,
) -> Ownership | None:
    """The owner rule an operation applies to rows of `table`: none when it has no owner,
    or when the operation only reads rows anyone may read."""
    if owner is None or (reads and owner.public):
        return None
    return Ownership(owner, table, tables, admin_roles)


@dataclass(frozen=True, slots=True)
class Owners:
    """Every owner rule one operation applies, compiled once: its own rows', the parents'
    its path names (in path order), and a link's two ends."""

    rows: Ownership | None = None
    parents: tuple[Ownership | None, ...] = ()
    link_parent: Ownership | None = None
    link_target: Ownership | None = None

    @property
    def any(self) -> bool:
        """Whether anything the operation touches belongs to someone."""
        return bool(self.rows or self.link_parent or self.link_target or any(self.parents))


NOBODY = Owners()
