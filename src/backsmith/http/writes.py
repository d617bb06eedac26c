"""Writes from a request body: column values, derived slugs, and nested children.

Everything a write touches runs on the caller's connection inside its one transaction, so
a bad third order line leaves no order and no first two lines behind.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from backsmith.errors import Problem, ValidationFailed
from backsmith.model.types import Field, Generated, Hop, ItemShape, Model, Resource
from backsmith.storage.database import Connection, DatabaseError
from backsmith.storage.queries import TableQueries
from backsmith.storage.values import Stamps, from_json, slugify


def client_sets(field: Field) -> bool:
    """Whether a client may give this field a value: one the server does not set, or a key
    the server numbers only when the client gives none (`id` not marked readOnly)."""
    if field.hidden:
        return False
    return not field.server_set or (field.primary_key and not field.read_only)


def _named_fields(
    resource: Resource, shape: ItemShape | None, keep: Callable[[Field], bool]
) -> dict[str, Field]:
    """Body property -> field, for the fields `keep` takes: the resource's names plus the
    names the body schema gives its columns."""
    fields = {f.name: f for f in resource.fields if keep(f)}
    for member in shape.members if shape is not None else ():
        field = resource.field(member.column or "") if member.source == "column" else None
        if field is not None and keep(field):
            fields[member.name] = field
    return fields


def writable_fields(resource: Resource, shape: ItemShape | None) -> dict[str, Field]:
    """Body property -> the field it writes: the resource's names plus the body schema's."""
    return _named_fields(resource, shape, client_sets)


def numbered_key(resource: Resource) -> str | None:
    """The key column the database numbers and a client may also choose, if there is one."""
    key = resource.key
    numbered = key.generated == Generated.AUTOINCREMENT and client_sets(key)
    return key.column if numbered else None


def generated_keys(resource: Resource, shape: ItemShape | None) -> dict[str, Field]:
    """Body property -> a key only the server sets (DBML `increment`, a default): a body
    carrying one is refused, never stored under another id."""
    keys = _named_fields(resource, shape, lambda f: f.primary_key and not f.hidden)
    return {name: f for name, f in keys.items() if f.server_set and not client_sets(f)}


# A body property naming a referenced row by its key: (the key inside it, the foreign key).
Reference = tuple[str, Field]


def reference_fields(resource: Resource, shape: ItemShape | None) -> dict[str, Reference]:
    """Body properties that name a row they refer to, `{"author": {"id": 3}}`: an embedded
    object reached by the row's own foreign key, whose shape carries the target's key."""
    found: dict[str, Reference] = {}
    for member in shape.members if shape is not None else ():
        hop, inner = member.hop, member.shape
        if member.source != "embed" or hop is None or hop.to_many or inner is None:
            continue
        field = resource.field(hop.source_columns[0])
        key = next(
            (
                m.name
                for m in inner.members
                if m.source == "column" and m.column == hop.target_columns[0]
            ),
            None,
        )
        if field is not None and key is not None and not field.server_set and not field.hidden:
            found[member.name] = (key, field)
    return found


def _referenced(
    references: Mapping[str, Reference],
    body: Mapping[str, Any],
    values: dict[str, Any],
    errors: list[dict[str, str]],
    prefix: str,
) -> None:
    """The foreign keys the body's nested objects name, into `values`."""
    for name, (key, field) in references.items():
        if name not in body:
            continue
        given = body[name]
        if given is None and field.nullable:
            values[field.column] = None
            continue
        if not isinstance(given, dict) or given.get(key) is None:
            detail = f"names the row it refers to by its '{key}'"
            errors.append({"detail": detail, "pointer": f"{prefix}/{name}/{key}"})
            continue
        try:
            values[field.column] = from_json(field, given[key])
        except (TypeError, ValueError, ArithmeticError):
            detail = f"not a valid {field.type}"
            errors.append({"detail": detail, "pointer": f"{prefix}/{name}/{key}"})


def _default(field: Field) -> Any:
    if field.default is None:
        return None
    try:
        return from_json(field, copy.deepcopy(field.default))
    except (TypeError, ValueError, ArithmeticError):
        return None


def column_values(
    writable: Mapping[str, Field],
    body: Mapping[str, Any],
    replace: bool,
    status: int,
    prefix: str = "#",
    references: Mapping[str, Reference] | None = None,
) -> dict[str, Any]:
    """Column values from a validated body; absent fields get defaults on create/replace.

    `references` name the body's nested objects that stand for a foreign key."""
    values: dict[str, Any] = {}
    errors = []
    for name, field in writable.items():
        if name in body and not field.read_only:
            try:
                values[field.column] = from_json(field, body[name])
            except (TypeError, ValueError, ArithmeticError):
                detail = f"not a valid {field.type}"
                errors.append({"detail": detail, "pointer": f"{prefix}/{name}"})
        elif replace and not field.primary_key and field.column not in values:
            default = _default(field)
            if default is not None or field.nullable:
                values[field.column] = default
    if references:
        _referenced(references, body, values, errors, prefix)
    if errors:
        raise ValidationFailed(errors, status)
    return values


async def derive(
    conn: Connection,
    table: sa.Table,
    pairs: tuple[tuple[str, str], ...],
    values: dict[str, Any],
    attempt: int = 0,
) -> None:
    """Fill derived columns (a slug from a title), unique with a numeric suffix.

    `attempt` counts the times a concurrent create took the slug this one chose first.
    Creates racing for one title all read the same taken slugs and choose the same next
    one, so a retry steps a random distance past it, and the third a random suffix: the
    client who sent no slug never gets a 409 for one.
    """
    for column, source in pairs:
        if values.get(column) is not None or values.get(source) is None:
            continue
        base = slugify(str(values[source]))
        max_length = getattr(table.c[column].type, "length", None)
        if max_length:
            base = base[: max(1, max_length - 8)]
        taken = await conn.execute(
            sa.select(table.c[column]).where(
                sa.or_(table.c[column] == base, table.c[column].like(f"{base}-%"))
            )
        )
        used = {str(v) for v in taken.scalars()}
        candidate, suffix = base, 1
        while candidate in used:
            suffix += 1
            candidate = f"{base}-{suffix}"
        if attempt >= 3:
            candidate = f"{base}-{secrets.token_hex(3)}"
        elif attempt:
            candidate = f"{base}-{suffix + secrets.randbelow(20 * attempt) + 1}"
        values[column] = candidate


class Children:
    """Nested children a body carries: rows of a child table, or links through a join table."""

    def __init__(
        self,
        name: str,
        hop: Hop,
        model: Model,
        tables: Mapping[str, sa.Table],
        shape: ItemShape | None,
        values_column: str | None,
        replace: bool,
    ) -> None:
        self.name = name
        self.hop = hop
        self.replace = replace
        self.values_column = values_column
        target = model.resource_for_table(hop.target)
        assert target is not None
        self.target = target
        self.table = tables[hop.target]
        self.join = tables[hop.join] if hop.join else None
        self.targets = TableQueries(self.table)
        self.joins = TableQueries(self.join) if self.join is not None else None
        self.writable = writable_fields(target, shape)
        self.numbered = numbered_key(target)
        self.references = reference_fields(target, shape)
        self.stamps = Stamps(target)
        join = model.resource_for_table(hop.join) if hop.join else None
        self.join_stamps = Stamps(join) if join is not None else None
        # On a "many" hop the child's foreign key is the parent's: never from the body.
        for column in hop.target_columns if hop.kind == "many" else ():
            for key in [k for k, f in self.writable.items() if f.column == column]:
                del self.writable[key]

    async def write(
        self,
        conn: Connection,
        parent: Mapping[str, Any],
        items: list[Any],
        status: int,
        at: str,
        clear: bool,
    ) -> None:
        """Write `items` as children of `parent`; `at` is the body's pointer ("#", "#/book")."""
        parent_key = parent[self.hop.source_columns[0]]
        if clear:
            await self._clear(conn, parent_key)
        for index, item in enumerate(items):
            pointer = f"{at}/{self.name}/{index}"
            try:
                if self.hop.kind == "many":
                    await self._insert_child(conn, parent_key, item, pointer, status)
                else:
                    await self._link(conn, parent_key, item, pointer, status)
            except DatabaseError as error:
                error.at = pointer  # the fault points at this child, not the whole body
                raise

    async def _clear(self, conn: Connection, parent_key: Any) -> None:
        if self.join is not None:
            column = self.join.c[self.hop.join_source[0]]
            await conn.execute(sa.delete(self.join).where(column == parent_key))
        else:
            column = self.table.c[self.hop.target_columns[0]]
            await conn.execute(sa.delete(self.table).where(column == parent_key))

    async def _insert_child(
        self, conn: Connection, parent_key: Any, item: Any, pointer: str, status: int
    ) -> None:
        if not isinstance(item, dict):
            raise ValidationFailed([{"detail": "must be an object", "pointer": pointer}], status)
        values = {
            **self.stamps.values(creating=True),
            **column_values(self.writable, item, True, status, pointer, self.references),
            self.hop.target_columns[0]: parent_key,
        }
        await conn.execute(sa.insert(self.table).values(values))
        if self.numbered is not None and self.numbered in values:
            await self.targets.follow_sequence(conn, self.numbered)

    async def _link(
        self, conn: Connection, parent_key: Any, item: Any, pointer: str, status: int
    ) -> None:
        """Link an existing target (found by key or value), creating it when it is missing."""
        assert self.join is not None
        key_column = self.hop.target_columns[0]
        if self.values_column is not None:
            field = self.target.field(self.values_column)
            assert field is not None
            values = {self.values_column: from_json(field, item)}
        elif isinstance(item, dict):
            values = column_values(self.writable, item, False, status, pointer)
        else:
            raise ValidationFailed([{"detail": "must be an object", "pointer": pointer}], status)
        lookup = {c: v for c, v in values.items() if c == key_column} or values
        found = await self.targets.fetch_one(conn, lookup) if lookup else None
        if found is None:
            values = {**self.stamps.values(creating=True), **values}
            found = await self.targets.insert(conn, values)
        joined = {
            self.hop.join_source[0]: parent_key,
            self.hop.join_target[0]: found[key_column],
        }
        assert self.joins is not None
        exists = await self.joins.fetch_one(conn, joined)
        if exists is None:
            stamps = self.join_stamps.values(creating=True) if self.join_stamps else {}
            await conn.execute(sa.insert(self.join).values({**stamps, **joined}))


def children_of(
    shape: ItemShape | None, model: Model, tables: Mapping[str, sa.Table], replace_all: bool
) -> list[Children]:
    """The nested children a body shape carries (to-many relations only)."""
    found = []
    for member in shape.members if shape is not None else ():
        hop = member.hop
        if hop is None or not hop.to_many or member.source not in ("embed", "values"):
            continue
        if hop.kind == "many" and member.source == "values":
            continue  # a list of a child column's values cannot say which rows to make
        found.append(
            Children(
                member.name,
                hop,
                model,
                tables,
                member.shape,
                member.column if member.source == "values" else None,
                member.replace or replace_all,
            )
        )
    return found


__all__ = [
    "Children",
    "Problem",
    "Reference",
    "Stamps",
    "children_of",
    "column_values",
    "derive",
    "reference_fields",
    "slugify",
]
