"""Statements compiled once for a dialect, the rows they return, and the connection that runs them.

SQLAlchemy builds every statement and compiles it for the dialect; requests then hand the
compiled SQL straight to asyncpg or sqlite3. That skips what an engine does per execution
(cache keys, result objects, a transaction around every read), which on a one-row lookup
costs more than the database does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa

from backsmith.storage.codecs import Processor, sqlite_decoder, sqlite_uuid_in
from backsmith.storage.columns import UtcDateTime

Row = dict[str, Any]


class DatabaseError(Exception):
    """A driver's refusal, classified once so faults can answer it the same on every dialect."""

    def __init__(self, kind: str, text: str, sqlstate: str = "", detail: str = "") -> None:
        super().__init__(text)
        self.kind = kind  # integrity, data, unavailable or fault
        self.text = text
        self.sqlstate = sqlstate
        self.detail = detail
        # Where the refused value came from in the caller's input, when the caller says
        # (a nested child's pointer), so the fault can point there.
        self.at = ""


def constant(value: str | int) -> sa.ColumnElement[Any]:
    """A value written into a statement's SQL, not bound: the same for every request.

    Each bound parameter is encoded by the driver and parsed by the server on every run; a
    statement compiled once per operation (an event's type, its target) need not carry its
    constants as parameters. Text is quoted as SQL's standard strings are (PostgreSQL's
    `standard_conforming_strings`, on since 9.1, and SQLite's).
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"not a text or integer constant: {value!r}")
    if isinstance(value, int):
        return sa.literal_column(str(value), sa.Integer)
    if "\0" in value:
        raise ValueError("a NUL cannot stand in SQL text")
    return sa.literal_column("'" + value.replace("'", "''") + "'", sa.String)


class Statement:
    """One statement compiled for one dialect: SQL text, parameter order, value processors."""

    __slots__ = (
        "_keyed",
        "binds",
        "compiled",
        "defaults",
        "expanding",
        "point",
        "processors",
        "results",
        "rows",
        "sql",
    )

    def __init__(self, statement: Any, dialect: sa.Dialect, point: bool = False) -> None:
        compiled = statement.compile(dialect=dialect)
        # A read of at most one row by a key: cheaper than handing it to another thread.
        self.point = point
        self.compiled = compiled
        self.sql = compiled.string
        self.expanding = any(b.expanding or b.literal_execute for b in compiled.binds.values())
        self.defaults = {
            name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
        }
        self.processors = {
            name: _bind_processor(bind.type, dialect) for name, bind in compiled.binds.items()
        }
        self.binds = tuple(
            (name, self.processors[name])
            for name in compiled.positiontup or ()
            if name in compiled.binds
        )
        types = _result_types(statement)
        self.rows = types is not None
        self.results = tuple(
            (index, processor)
            for index, kind in enumerate(types or ())
            if (processor := _result_processor(kind, dialect)) is not None
        )
        self._keyed: tuple[tuple[str, Processor], ...] | None = None

    def arguments(self, params: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
        """The SQL to send and its positional arguments, processed for the driver."""
        if self.expanding:
            state = self.compiled.construct_expanded_state(dict(params or {}))
            values = state.parameters
            args = []
            for name in state.positiontup or ():
                # `parents` expands to `parents_1`, `parents_2`...: each takes the processor
                # of the parameter it came from, the same as unexpanded ones.
                source = name if name in self.processors else name.rpartition("_")[0]
                processor = self.processors.get(source) or state.processors.get(name)
                args.append(processor(values[name]) if processor else values[name])
            return state.statement, args
        given = params or {}
        defaults = self.defaults
        args = []
        for name, processor in self.binds:
            value = given[name] if name in given else defaults.get(name)
            args.append(processor(value) if processor is not None else value)
        return self.sql, args

    def keyed(self, names: Sequence[str]) -> tuple[tuple[str, Processor], ...]:
        """Result processors by column name, learnt from the first rows the driver returns."""
        if self._keyed is None:
            self._keyed = tuple((names[i], p) for i, p in self.results if i < len(names))
        return self._keyed


def _result_types(statement: Any) -> list[Any] | None:
    """The types of the columns a statement returns, or None when it returns no rows."""
    selected = getattr(statement, "selected_columns", None)
    if selected is not None:
        return [column.type for column in selected]
    returning = getattr(statement, "returning_column_descriptions", None)
    if returning:
        return [description["type"] for description in returning]
    return None


def _bind_processor(kind: Any, dialect: sa.Dialect) -> Processor | None:
    if dialect.name == "sqlite" and isinstance(kind, sa.Uuid):
        return sqlite_uuid_in
    if dialect.name == "postgresql" and isinstance(kind, UtcDateTime):
        # The connection's codec writes any offset, and a naive value as UTC, which is
        # all the type's own processor does (it moves an instant to UTC for SQLite).
        return None
    impl = kind.dialect_impl(dialect)
    if (
        dialect.name == "postgresql"
        and isinstance(impl, sa.ARRAY)
        and impl.item_type.dialect_impl(dialect).bind_processor(dialect) is None
    ):
        return None  # its processor only copies the list, which asyncpg takes as it is
    return impl.bind_processor(dialect)  # type: ignore[no-any-return]


def _result_processor(kind: Any, dialect: sa.Dialect) -> Processor | None:
    if dialect.name == "postgresql":
        # asyncpg decodes every type itself, with the codecs set on connect (JSON, UTC
        # timestamps), so rows come back as the driver's records, untouched.
        return None
    own = sqlite_decoder(kind)
    if own is not None:
        return own
    return kind.dialect_impl(dialect).result_processor(dialect, None)  # type: ignore[no-any-return]


class Result:
    """Rows as dicts by column name, and how many rows a write touched."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[Row], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def mappings(self) -> Result:
        return self

    def all(self) -> list[Row]:
        return self.rows

    def first(self) -> Row | None:
        return self.rows[0] if self.rows else None

    def one(self) -> Row:
        if len(self.rows) != 1:
            raise DatabaseError("fault", f"expected one row, got {len(self.rows)}")
        return self.rows[0]

    def scalar_one(self) -> Any:
        return next(iter(self.one().values()))

    def scalars(self) -> list[Any]:
        return [next(iter(row.values())) for row in self.rows]


class Connection:
    """One pooled driver connection; `execute` runs SQLAlchemy statements on it."""

    __slots__ = ("_cache", "_listeners", "dialect")

    def __init__(
        self,
        dialect: sa.Dialect,
        cache: dict[Any, Statement],
        listeners: list[Callable[[str], None]],
    ) -> None:
        self.dialect = dialect
        self._cache = cache
        self._listeners = listeners

    def compiled(self, key: Any, build: Callable[[], Any], point: bool = False) -> Statement:
        """The compiled statement `build()` makes, compiled once per `key`.

        `point`: the statement reads at most one row by a key (see `Statement.point`).
        """
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = Statement(build(), self.dialect, point)
        return found

    async def execute(self, statement: Any, params: Mapping[str, Any] | None = None) -> Result:
        """Run a statement (compiled now unless it is a compiled `Statement`)."""
        if not isinstance(statement, Statement):
            statement = Statement(statement, self.dialect)
        sql, args = statement.arguments(params)
        for listener in self._listeners:
            listener(sql)
        rows, count = await self.run_sql(sql, args, statement.rows, statement.point)
        if rows and statement.results:
            processors = statement.keyed(list(rows[0]))
            for row in rows:
                for name, processor in processors:
                    row[name] = processor(row[name])
        return Result(rows, count)

    async def run_sql(
        self, sql: str, args: list[Any], rows: bool, point: bool = False
    ) -> tuple[list[Row], int]:
        """The driver's rows and row count for SQL ready to send (BEGIN and COMMIT too)."""
        raise NotImplementedError


class Beside(Protocol):
    """More work in a write's own statement: the write becomes a CTE of a statement that
    also does it (an event written to the outbox by the INSERT that makes its row)."""

    key: Any  # what the statement is compiled once per
    params: dict[str, Any]

    def around(self, write: Any) -> Any: ...
