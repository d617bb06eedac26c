"""SQL across relations: conditions over related rows, computed values, batched loads.

Every load here is one statement for a whole batch of parent rows (`WHERE fk IN (...)`),
so embedding costs one query per relation per response, never one per row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from backsmith.model.types import Computed, Hop
from backsmith.storage.columns import answer_columns
from backsmith.storage.database import Connection
from backsmith.storage.ids import CANONICAL_UUID

PARENT = "__bs_parent"  # the label carrying a related row's parent key in a batched load


def reaches(
    tables: Mapping[str, sa.Table],
    source: sa.FromClause,
    hops: Sequence[Hop],
    column: str,
    value: Any,
    start: Any = None,
) -> sa.ColumnElement[bool]:
    """Rows of `source` related along `hops` to a row whose `column` equals `value`.

    A list value matches any of its items. Each hop becomes an `IN (SELECT ...)`, which
    every database plans as a semi-join. `start` stands for the first hop's source column
    (a reference already holding the key that hop starts from).
    """
    hop = hops[0]
    origin = start if start is not None else source.c[hop.source_columns[0]]
    if hop.kind == "one" and len(hops) > 1 and hops[1].source_columns == hop.target_columns:
        # books.author_id already holds the key the author's followers hang from: go on
        # from it without reading the authors' table.
        return reaches(tables, source, hops[1:], column, value, origin)
    if len(hops) == 1 and (column,) == hop.target_columns and hop.kind != "many":
        # The value is already the join column's: skip reading the target table.
        if hop.kind == "one":
            return equals(origin, value)
        join = tables[hop.join or ""].alias()
        inner = sa.select(join.c[hop.join_source[0]]).where(
            equals(join.c[hop.join_target[0]], value)
        )
        return origin.in_(inner)
    target = tables[hop.target].alias()
    if len(hops) == 1:
        condition = equals(target.c[column], value)
    else:
        condition = reaches(tables, target, hops[1:], column, value)
    if hop.kind == "through":
        join = tables[hop.join or ""].alias()
        targets = sa.select(target.c[hop.target_columns[0]]).where(condition)
        inner = sa.select(join.c[hop.join_source[0]]).where(join.c[hop.join_target[0]].in_(targets))
        return origin.in_(inner)
    inner = sa.select(target.c[hop.target_columns[0]]).where(condition)
    return origin.in_(inner)


def equals(column: Any, value: Any) -> sa.ColumnElement[bool]:
    """`column = value`, `IN` for a list, `IS NULL` for None."""
    if isinstance(value, list | tuple):
        return column.in_(list(value))  # type: ignore[no-any-return]
    return column.is_(None) if value is None else column == value  # type: ignore[no-any-return]


def computed_expression(
    tables: Mapping[str, sa.Table],
    source: sa.FromClause,
    computed: Computed,
    caller: str | None,
) -> sa.ColumnElement[Any]:
    """A correlated subquery computing `computed` for each row of `source`.

    An `exists` about the caller binds the caller's key as the parameter named `caller`;
    without one (an anonymous caller) it is simply false.
    """
    hop = computed.hop
    if hop.kind == "through":
        rows = tables[hop.join or ""].alias()
        link = rows.c[hop.join_source[0]] == source.c[hop.source_columns[0]]
        origin: sa.FromClause = rows
        values = rows
        if computed.function == "sum":
            target = tables[hop.target].alias()
            origin = rows.join(
                target, rows.c[hop.join_target[0]] == target.c[hop.target_columns[0]]
            )
            values = target
    else:
        rows = tables[hop.target].alias()
        link = rows.c[hop.target_columns[0]] == source.c[hop.source_columns[0]]
        origin = values = rows
    if computed.function == "count":
        return sa.select(sa.func.count()).select_from(origin).where(link).scalar_subquery()
    if computed.function == "sum":
        product: Any = values.c[computed.terms[0]]
        for term in computed.terms[1:]:
            product = product * values.c[term]
        total = sa.func.coalesce(sa.func.sum(product), 0)
        return sa.select(total).select_from(origin).where(link).scalar_subquery()
    if caller is None:  # an anonymous caller has no link of its own
        return sa.false()
    column = rows.c[computed.caller_column or ""]
    mine = column == sa.bindparam(caller, type_=column.type)
    return sa.exists(sa.select(sa.literal(1)).select_from(origin).where(link, mine))


def caller_column(tables: Mapping[str, sa.Table], computed: Computed) -> sa.Column[Any]:
    """The column an `exists` compares with the caller's key."""
    hop = computed.hop
    return tables[hop.join or hop.target].c[computed.caller_column or ""]


_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,18})")


def caller_value(column: Any, subject: Any) -> Any:
    """The caller's subject as a value of `column` (an integer or UUID key); None if it is not."""
    if subject is None:
        return None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return subject
    text = str(subject)
    # One spelling per value: int() would take "01", "+1", "1_0" or other scripts' digits,
    # and UUID() capitals, braces or no hyphens, so that two subjects could name one row.
    if python_type is int:
        return int(text) if _INTEGER.fullmatch(text) else None
    if python_type is UUID:  # kept as text: the form rows hold and values compare in
        return text if CANONICAL_UUID.fullmatch(text) else None
    return subject


async def load_related(
    conn: Connection,
    tables: Mapping[str, sa.Table],
    hop: Hop,
    parents: Sequence[Mapping[str, Any]],
    extras: Sequence[sa.ColumnElement[Any]] = (),
    only: str | None = None,
    params: Mapping[str, Any] | None = None,
    order: Sequence[str] = (),
) -> tuple[list[Any], dict[Any, list[int]]]:
    """Rows related to `parents` along `hop`, in one query.

    Returns the rows and, per parent join value, the indexes of its rows. With `only`,
    rows are that one column's values (`genreList`). They come in `order` (columns of the
    target, "-" for descending), then by the target's key, never in the order of insertion.
    """
    source_column = hop.source_columns[0]
    keys = list({row[source_column] for row in parents if row[source_column] is not None})
    if not keys:
        return [], {}

    answered = conn.dialect.name == "postgresql"  # the rows only become answers

    def build() -> Any:
        target = tables[hop.target]
        whole = answer_columns(target) if answered else [target]
        picked: list[Any] = [target.c[only]] if only else [*whole, *extras]
        terms = [target.c[t[1:]].desc() if t.startswith("-") else target.c[t].asc() for t in order]
        ordering = [*terms, *target.primary_key.columns]
        batch: sa.BindParameter[Any] = sa.bindparam("parents", expanding=True)
        if hop.kind == "through":
            join = tables[hop.join or ""]
            parent = join.c[hop.join_source[0]].label(PARENT)
            on = join.c[hop.join_target[0]] == target.c[hop.target_columns[0]]
            return (
                sa.select(*picked, parent)
                .select_from(join.join(target, on))
                .where(join.c[hop.join_source[0]].in_(batch))
                .order_by(*ordering)
            )
        column = target.c[hop.target_columns[0]]
        return sa.select(*picked, column.label(PARENT)).where(column.in_(batch)).order_by(*ordering)

    key = ("related", id(hop), only, tuple(order), tuple(id(e) for e in extras))
    statement = conn.compiled(key, build)
    result = await conn.execute(statement, {**(params or {}), "parents": keys})
    rows = result.all()
    groups: dict[Any, list[int]] = {}
    for index, row in enumerate(rows):
        groups.setdefault(row[PARENT], []).append(index)
    if only:
        return [row[only] for row in rows], groups
    return rows, groups
