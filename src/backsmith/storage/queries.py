"""Statements over one table: lookups, filtered keyset or offset pages, writes with RETURNING."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from backsmith.storage.columns import answer_columns
from backsmith.storage.database import Connection, Result, Row
from backsmith.storage.ordering import Ordering, after_condition
from backsmith.storage.statements import Beside


def _shape(equals: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    """Which columns an equality names, and how: 0 `=`, 1 `IN`, 2 `IS NULL`."""
    return tuple(
        (column, 1 if isinstance(value, list | tuple) else 2 if value is None else 0)
        for column, value in equals.items()
    )


def _equal_params(equals: Mapping[str, Any]) -> dict[str, Any]:
    return {
        f"eq_{column}": list(value) if isinstance(value, list | tuple) else value
        for column, value in equals.items()
        if value is not None
    }


def _stable(parts: Sequence[Any]) -> tuple[int, ...]:
    # Extras and order terms are built once per plan and live as long as it: their
    # identities name them.
    return tuple(id(part) for part in parts)


class TableQueries:
    """The statements one resource needs over its table, each compiled once per variant.

    A variant is what changes the SQL (which columns a lookup names, whether a cursor is
    given); values are always bound. Conditions over related rows (`where`) are built per
    request and compiled with it.
    """

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        # Column sets that name at most one row: a lookup by any of them is a point read.
        self._keys = [frozenset(c.name for c in table.primary_key.columns)]
        self._keys += [
            frozenset(c.name for c in constraint.columns)
            for constraint in table.constraints
            if isinstance(constraint, sa.UniqueConstraint)
        ]
        self._keys += [frozenset(c.name for c in i.columns) for i in table.indexes if i.unique]
        self._points: dict[tuple[tuple[str, int], ...], bool] = {}
        self._answer_columns = answer_columns(table)
        # Each written column's parameter name, made once: not a new string (to hash) per
        # column of every write.
        self._written = {c.name: f"v_{c.name}" for c in table.c}

    def _selected(self, dialect: str, answered: bool) -> Sequence[Any]:
        if answered and dialect == "postgresql":
            return self._answer_columns
        return (self.table,)

    def where(self, shape: Sequence[tuple[str, int]]) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = []
        for column, how in shape:
            col = self.table.c[column]
            if how == 1:
                clauses.append(col.in_(sa.bindparam(f"eq_{column}", expanding=True)))
            elif how == 2:
                clauses.append(col.is_(None))
            else:
                clauses.append(col == sa.bindparam(f"eq_{column}", type_=col.type))
        return clauses

    def _point(self, shape: tuple[tuple[str, int], ...]) -> bool:
        found = self._points.get(shape)
        if found is None:
            named = frozenset(column for column, how in shape if how == 0)
            found = self._points[shape] = any(key and key <= named for key in self._keys)
        return found

    async def _run(
        self,
        conn: Connection,
        key: tuple[Any, ...],
        build: Any,
        params: dict[str, Any],
        dynamic: bool,
        point: bool = False,
    ) -> Result:
        if dynamic:
            return await conn.execute(build(), params)
        statement = conn.compiled((self.table.name, *key), build, point)
        return await conn.execute(statement, params)

    async def fetch_one(
        self,
        conn: Connection,
        equals: Mapping[str, Any],
        for_update: bool = False,
        extras: Sequence[Any] = (),
        where: Sequence[Any] = (),
        params: Mapping[str, Any] | None = None,
        answered: bool = False,
    ) -> Row | None:
        """One row (and computed `extras`) matching `equals` and the `where` clauses.

        `answered`: the row only becomes an answer, so its date-times may come as text.
        """
        shape = _shape(equals)
        locking = for_update and conn.dialect.name == "postgresql"
        selected = self._selected(conn.dialect.name, answered)

        def build() -> Any:
            statement = sa.select(*selected, *extras).where(*self.where(shape), *where).limit(1)
            return statement.with_for_update() if locking else statement

        key = ("one", shape, locking, _stable(extras), answered)
        values = {**_equal_params(equals), **(params or {})}
        point = not locking and not extras and self._point(shape)
        return (await self._run(conn, key, build, values, bool(where), point)).first()

    async def page(
        self,
        conn: Connection,
        equals: Mapping[str, Any],
        order: Ordering,
        limit: int,
        after: Sequence[Any] | None = None,
        offset: int = 0,
        extras: Sequence[Any] = (),
        where: Sequence[Any] = (),
        params: Mapping[str, Any] | None = None,
        answered: bool = False,
    ) -> list[Row]:
        shape = _shape(equals)
        nulls = tuple(v is None for v in after) if after is not None else None
        selected = self._selected(conn.dialect.name, answered)

        def build() -> Any:
            clauses = [*self.where(shape), *where]
            if nulls is not None:
                clauses.append(after_condition(order, nulls))
            statement = (
                sa.select(*selected, *extras)
                .where(*clauses)
                .order_by(*[k.clause() for k in order])
                .limit(sa.bindparam("page_limit", type_=sa.Integer()))
            )
            if offset:
                statement = statement.offset(sa.bindparam("page_offset", type_=sa.BigInteger()))
            return statement

        key = ("page", shape, order.terms, nulls, bool(offset), _stable(extras), answered)
        values = {**_equal_params(equals), **(params or {}), "page_limit": limit}
        if offset:
            values["page_offset"] = offset
        for index, value in enumerate(after or ()):
            if value is not None:
                values[f"after_{index}"] = value
        return (await self._run(conn, key, build, values, bool(where))).all()

    async def count(
        self,
        conn: Connection,
        equals: Mapping[str, Any],
        where: Sequence[Any] = (),
        params: Mapping[str, Any] | None = None,
    ) -> int:
        shape = _shape(equals)

        def build() -> Any:
            return (
                sa.select(sa.func.count()).select_from(self.table).where(*self.where(shape), *where)
            )

        values = {**_equal_params(equals), **(params or {})}
        result = await self._run(conn, ("count", shape), build, values, bool(where))
        return int(result.scalar_one())

    def _values(self, columns: Sequence[str]) -> dict[str, Any]:
        return {c: sa.bindparam(self._written[c], type_=self.table.c[c].type) for c in columns}

    async def insert(
        self,
        conn: Connection,
        values: Mapping[str, Any],
        beside: Beside | None = None,
        answered: bool = False,
    ) -> Row:
        """The new row; `answered`: it only becomes an answer (see `fetch_one`)."""
        columns = tuple(values)
        text = answered and conn.dialect.name == "postgresql"

        def build() -> Any:
            write = sa.insert(self.table).values(self._values(columns))
            return self._returning(write, beside, text)

        bound = {self._written[c]: v for c, v in values.items()}
        key: tuple[Any, ...] = ("insert", columns, text)
        if beside is not None:
            key, bound = (*key, beside.key), {**bound, **beside.params}
        return (await self._run(conn, key, build, bound, False)).one()

    def _returning(self, write: Any, beside: Beside | None, text: bool) -> Any:
        """`write ... RETURNING` the row, with the statement `beside` makes of it, and with
        date-times and UUIDs as PostgreSQL's text where `text`."""
        if beside is None:
            return write.returning(*(self._answer_columns if text else self.table.c))
        around = beside.around(write.returning(*self.table.c))
        if text:  # only the answer's columns: `beside` writes from the CTE's typed ones
            (changed,) = around.get_final_froms()
            around = around.with_only_columns(*answer_columns(changed))
        return around

    async def update(
        self,
        conn: Connection,
        equals: Mapping[str, Any],
        values: Mapping[str, Any],
        beside: Beside | None = None,
        answered: bool = False,
    ) -> Row | None:
        """The changed row, or None; `answered`: it only becomes an answer."""
        if not values:
            return await self.fetch_one(conn, equals, answered=answered)
        shape, columns = _shape(equals), tuple(values)
        text = answered and conn.dialect.name == "postgresql"

        def build() -> Any:
            write = sa.update(self.table).where(*self.where(shape)).values(self._values(columns))
            return self._returning(write, beside, text)

        bound = {**_equal_params(equals), **{self._written[c]: v for c, v in values.items()}}
        key: tuple[Any, ...] = ("update", shape, columns, text)
        if beside is not None:
            key, bound = (*key, beside.key), {**bound, **beside.params}
        return (await self._run(conn, key, build, bound, False)).first()

    async def delete(self, conn: Connection, equals: Mapping[str, Any]) -> Row | None:
        shape = _shape(equals)

        def build() -> Any:
            return sa.delete(self.table).where(*self.where(shape)).returning(*self.table.c)

        result = await self._run(conn, ("delete", shape), build, _equal_params(equals), False)
        return result.first()

    async def insert_ignoring_conflict(self, conn: Connection, values: Mapping[str, Any]) -> None:
        """Insert unless a unique key already holds the row (a link added twice at once)."""
        dialect = conn.dialect.name
        columns = tuple(values)

        def build() -> Any:
            bound = self._values(columns)
            if dialect == "postgresql":
                return postgresql.insert(self.table).values(bound).on_conflict_do_nothing()
            if dialect == "sqlite":
                return sqlite.insert(self.table).values(bound).on_conflict_do_nothing()
            return sa.insert(self.table).values(bound).prefix_with("IGNORE")

        bound = {self._written[c]: v for c, v in values.items()}
        await self._run(conn, ("insert-ignore", columns), build, bound, False)

    async def delete_all(self, conn: Connection, equals: Mapping[str, Any]) -> int:
        shape = _shape(equals)

        def build() -> Any:
            return sa.delete(self.table).where(*self.where(shape))

        result = await self._run(conn, ("delete-all", shape), build, _equal_params(equals), False)
        return result.rowcount

    async def follow_sequence(self, conn: Connection, column: str) -> None:
        """Move the numbering of `column` past a value a client chose for it.

        A PostgreSQL sequence does not look at the rows: after an insert of id 10 it would
        hand out 10 again. SQLite numbers past the largest stored key by itself.
        """
        if conn.dialect.name != "postgresql":
            return
        table, col = self.table, self.table.c[column]
        sequence = sa.func.pg_get_serial_sequence(table.name, column)
        largest = sa.select(sa.func.max(col)).scalar_subquery()
        # nextval - 1: never behind a number another transaction has already taken.
        position = sa.func.greatest(largest, sa.func.nextval(sequence) - 1)

        def build() -> Any:
            return sa.select(sa.func.setval(sequence, position))

        await self._run(conn, ("follow-sequence", column), build, {}, False)
