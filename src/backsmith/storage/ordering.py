"""Keyset order: the ORDER BY terms of a page, the rows after a cursor, and cursors."""

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

from backsmith.model.types import Field, Resource
from backsmith.storage.values import from_json


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


class Ordering(tuple[OrderKey, ...]):
    """The ORDER BY terms of a page, with the tag its cursors carry, computed once."""

    signature: str
    terms: tuple[tuple[int, bool], ...]  # names the statement a page in this order runs

    def __new__(cls, keys: Sequence[OrderKey]) -> Ordering:
        ordering = super().__new__(cls, keys)
        ordering.signature = order_signature(ordering)
        ordering.terms = tuple((id(k.column), k.descending) for k in ordering)
        return ordering


def order_keys(
    table: sa.Table,
    resource: Resource,
    terms: Sequence[str],
    computed: Mapping[str, tuple[Any, Field]] | None = None,
) -> Ordering:
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
            key_field = resource.field(column)
            assert key_field is not None
            keys.append(OrderKey(table.c[column], key_field, descending))
    return Ordering(keys)


def order_signature(order: Sequence[OrderKey]) -> str:
    """A short tag of an ordering, so a cursor is never reused under another sort."""
    terms = ",".join(("-" if k.descending else "") + k.field.column for k in order)
    return hashlib.blake2s(terms.encode(), digest_size=4).hexdigest()


def encode_cursor(order: Ordering, row: Mapping[str, Any]) -> str:
    values = [_plain(row[k.field.column]) for k in order]
    raw = orjson.dumps([order.signature, *values])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(order: Ordering, cursor: str) -> tuple[Any, ...] | None:
    """The row values a cursor points after, or None when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, list) or len(data) != len(order) + 1:
        return None
    if data[0] != order.signature:
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


def _beyond(key: OrderKey, value: Any) -> sa.ColumnElement[bool]:
    if value is None:
        return key.column.is_not(None) if not key.descending else sa.false()
    after: sa.ColumnElement[bool] = key.column < value if key.descending else key.column > value
    if key.descending and key.nullable:
        return sa.or_(after, key.column.is_(None))
    return after


def _equal(key: OrderKey, value: Any) -> sa.ColumnElement[bool]:
    return key.column.is_(None) if value is None else key.column == value


def after_condition(order: Sequence[OrderKey], nulls: Sequence[bool]) -> sa.ColumnElement[bool]:
    """Rows strictly after a cursor's values in `order` (keyset pagination).

    The values are bound as `after_0`, `after_1`, ...; `nulls` says which of them are NULL,
    since those compare with IS rather than `<`.
    """
    values = [
        None if null else _bound(f"after_{i}", k)
        for i, (k, null) in enumerate(zip(order, nulls, strict=True))
    ]
    same_direction = len({k.descending for k in order}) == 1
    if same_direction and not any(k.nullable for k in order) and not any(nulls):
        # A row-value comparison lets PostgreSQL walk a composite index.
        left = sa.tuple_(*[k.column for k in order])
        right = sa.tuple_(*values)
        return left < right if order[0].descending else left > right
    terms = []
    for index, key in enumerate(order):
        prefix = [_equal(order[j], values[j]) for j in range(index)]
        terms.append(sa.and_(*prefix, _beyond(key, values[index])))
    return sa.or_(*terms)


def _bound(name: str, key: OrderKey) -> Any:
    return sa.bindparam(name, type_=key.column.type)
