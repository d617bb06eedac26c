"""Statements over one table: lookups, filtered keyset or offset pages, writes with RETURNING."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from backsmith.model.types import Field, FieldType, Resource


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One ORDER BY term of a page: the column, its direction, whether it can be NULL."""

    column: sa.ColumnElement[Any]
    field: Field
    descending: bool

    @property
    def nullable(self) -> bool:
        return self.field.nullable

    def clause(self) -> sa.ColumnElement[Any]:
        term = self.column.desc() if self.descending else self.column.asc()
        if not self.nullable:
            return term
        # NULL sorts as the smallest value on every dialect, so cursors compare alike.
        return term.nulls_last() if self.descending else term.nulls_first()


def order_keys(
    table: sa.Table,
    resource: Resource,
    terms: Sequence[str],
    computed: Mapping[str, tuple[Any, Field]] | None = None,
) -> list[OrderKey]:
    """ORDER BY terms (`column` or `-column`) plus the primary key, so every boundary is exact.

    A term named in `computed` sorts by that expression; its field names the selected label
    cursors read it back from.
    """
    keys: list[OrderKey] = []
    seen: set[str] = set()
    for term in terms:
        name = term.lstrip("-")
        if computed and name in computed:
            column, field = computed[name]
        else:
            found = resource.field(name)
            if found is None:
                continue
            column, field = table.c[found.column], found
        if field.column in seen:
            continue
        seen.add(field.column)
        keys.append(OrderKey(column, field, term.startswith("-")))
    descending = keys[-1].descending if keys else False
    for column in resource.primary_key:
        if column not in seen:
            field = resource.field(column)
            assert field is not None
            keys.append(OrderKey(table.c[column], field, descending))
    return keys


def order_signature(order: Sequence[OrderKey]) -> str:
    """A short tag of an ordering, so a cursor is never reused under another sort."""
    text = ",".join(("-" if k.descending else "") + k.field.column for k in order)
    return hashlib.blake2s(text.encode(), digest_size=4).hexdigest()


def encode_cursor(order: Sequence[OrderKey], row: Mapping[str, Any]) -> str:
    values = [_plain(row[k.field.column]) for k in order]
    raw = orjson.dumps([order_signature(order), *values])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(order: Sequence[OrderKey], cursor: str) -> tuple[Any, ...] | None:
    """The row values a cursor points after, or None when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, list) or len(data) != len(order) + 1:
        return None
    if data[0] != order_signature(order):
        return None
    try:
        return tuple(from_json(k.field, v) for k, v in zip(order, data[1:], strict=True))
    except (TypeError, ValueError, ArithmeticError):
        return None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    return value


def from_json(field: Field, value: Any) -> Any:
    """A validated JSON value as the Python value its column stores."""
    if value is None:
        return None
    kind = field.type
    if kind == FieldType.UUID:
        return value if isinstance(value, UUID) else UUID(str(value))
    if kind == FieldType.DATETIME:
        from datetime import UTC

        parsed = datetime.fromisoformat(str(value).replace("z", "Z"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if kind == FieldType.DATE:
        return date.fromisoformat(str(value))
    if kind == FieldType.DECIMAL:
        return Decimal(str(value))
    if kind == FieldType.INTEGER and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == FieldType.INTEGER and not isinstance(value, int):
        raise ValueError(f"not an integer: {value!r}")
    return value


def _beyond(key: OrderKey, value: Any) -> sa.ColumnElement[bool]:
    if value is None:
        return key.column.is_not(None) if not key.descending else sa.false()
    after = key.column < value if key.descending else key.column > value
    if key.descending and key.nullable:
        return sa.or_(after, key.column.is_(None))
    return after


def _equal(key: OrderKey, value: Any) -> sa.ColumnElement[bool]:
    return key.column.is_(None) if value is None else key.column == value


def after_condition(order: Sequence[OrderKey], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """Rows strictly after `values` in `order` (keyset pagination)."""
    same_direction = len({k.descending for k in order}) == 1
    if same_direction and not any(k.nullable for k in order) and None not in values:
        # A row-value comparison lets PostgreSQL walk a composite index.
        left = sa.tuple_(*[k.column for k in order])
        right = sa.tuple_(
            *[sa.literal(v, k.column.type) for k, v in zip(order, values, strict=True)]
        )
        return left < right if order[0].descending else left > right
    terms = []
    for index, key in enumerate(order):
        prefix = [_equal(order[j], values[j]) for j in range(index)]
        terms.append(sa.and_(*prefix, _beyond(key, values[index])))
    return sa.or_(*terms)


class TableQueries:
    """The statements one resource needs, over its table."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table

    def where(self, equals: Mapping[str, Any]) -> list[sa.ColumnElement[bool]]:
        clauses = []
        for column, value in equals.items():
            col = self.table.c[column]
            if isinstance(value, list | tuple):
                clauses.append(col.in_(value))
            else:
                clauses.append(col.is_(None) if value is None else col == value)
        return clauses

    async def fetch_one(
        self,
        conn: AsyncConnection,
        equals: Mapping[str, Any],
        for_update: bool = False,
        extras: Sequence[Any] = (),
        where: Sequence[Any] = (),
    ) -> sa.RowMapping | None:
        """One row (and computed `extras`) matching `equals` and the `where` clauses."""
        statement = sa.select(self.table, *extras).where(*self.where(equals), *where).limit(1)
        if for_update and conn.dialect.name == "postgresql":
            statement = statement.with_for_update()
        result = await conn.execute(statement)
        return result.mappings().first()

    async def page(
        self,
        conn: AsyncConnection,
        equals: Mapping[str, Any],
        order: Sequence[OrderKey],
        limit: int,
        after: Sequence[Any] | None = None,
        offset: int = 0,
        extras: Sequence[Any] = (),
        where: Sequence[Any] = (),
    ) -> list[sa.RowMapping]:
        clauses = [*self.where(equals), *where]
        if after is not None:
            clauses.append(after_condition(order, after))
        statement = (
            sa.select(self.table, *extras)
            .where(*clauses)
            .order_by(*[k.clause() for k in order])
            .limit(limit)
        )
        if offset:
            statement = statement.offset(offset)
        result = await conn.execute(statement)
        return list(result.mappings().all())

    async def count(
        self, conn: AsyncConnection, equals: Mapping[str, Any], where: Sequence[Any] = ()
    ) -> int:
        statement = (
            sa.select(sa.func.count()).select_from(self.table).where(*self.where(equals), *where)
        )
        return int((await conn.execute(statement)).scalar_one())

    async def insert(self, conn: AsyncConnection, values: Mapping[str, Any]) -> sa.RowMapping:
        statement = sa.insert(self.table).values(dict(values)).returning(*self.table.c)
        return (await conn.execute(statement)).mappings().one()

    async def update(
        self, conn: AsyncConnection, equals: Mapping[str, Any], values: Mapping[str, Any]
    ) -> sa.RowMapping | None:
        if not values:
            return await self.fetch_one(conn, equals)
        statement = (
            sa.update(self.table)
            .where(*self.where(equals))
            .values(dict(values))
            .returning(*self.table.c)
        )
        return (await conn.execute(statement)).mappings().first()

    async def delete(
        self, conn: AsyncConnection, equals: Mapping[str, Any]
    ) -> sa.RowMapping | None:
        statement = sa.delete(self.table).where(*self.where(equals)).returning(*self.table.c)
        return (await conn.execute(statement)).mappings().first()

    async def insert_ignoring_conflict(
        self, conn: AsyncConnection, values: Mapping[str, Any]
    ) -> None:
        """Insert unless a unique key already holds the row (a link added twice at once)."""
        dialect = conn.dialect.name
        statement: Any
        if dialect == "postgresql":
            statement = postgresql.insert(self.table).values(dict(values)).on_conflict_do_nothing()
        elif dialect == "sqlite":
            statement = sqlite.insert(self.table).values(dict(values)).on_conflict_do_nothing()
        else:
            statement = sa.insert(self.table).values(dict(values)).prefix_with("IGNORE")
        await conn.execute(statement)

    async def delete_all(self, conn: AsyncConnection, equals: Mapping[str, Any]) -> int:
        result = await conn.execute(sa.delete(self.table).where(*self.where(equals)))
        return int(result.rowcount or 0)
