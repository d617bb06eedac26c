"""Serving connections on the driver itself: statements compiled once, run as prepared.

SQLAlchemy builds every statement and compiles it for the dialect (and creates tables at
start-up); requests then hand the compiled SQL straight to asyncpg or sqlite3. That skips
what an engine does per execution (cache keys, result objects, a transaction around every
read), which on a one-row lookup costs more than the database does.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import make_url

Row = dict[str, Any]
Processor = Callable[[Any], Any]


class DatabaseError(Exception):
    """A driver's refusal, classified once so faults can answer it the same on every dialect."""

    def __init__(self, kind: str, text: str, sqlstate: str = "", detail: str = "") -> None:
        super().__init__(text)
        self.kind = kind  # integrity, data, unavailable or fault
        self.text = text
        self.sqlstate = sqlstate
        self.detail = detail


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
        return _sqlite_uuid_in
    return kind.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


def _result_processor(kind: Any, dialect: sa.Dialect) -> Processor | None:
    if dialect.name == "postgresql":
        # asyncpg decodes every type itself, with the codecs set on connect (JSON, UTC
        # timestamps), so rows come back as the driver's records, untouched.
        return None
    own = _sqlite_decoder(kind)
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
        rows, count = await self._run(sql, args, statement.rows, statement.point)
        if rows and statement.results:
            processors = statement.keyed(list(rows[0]))
            for row in rows:
                for name, processor in processors:
                    row[name] = processor(row[name])
        return Result(rows, count)

    async def _run(
        self, sql: str, args: list[Any], rows: bool, point: bool = False
    ) -> tuple[list[Row], int]:
        raise NotImplementedError


class _Pool:
    """Up to `size` connections, opened when first needed, handed to waiters in turn.

    Smaller than the drivers' own pools on purpose: acquiring an idle connection is a list
    pop, releasing one a list append, with no task or timer per request.
    """

    def __init__(
        self,
        size: int,
        opener: Callable[[], Any],
        healthy: Callable[[Any], bool],
        closer: Callable[[Any], Any],
    ) -> None:
        self._size = size
        self._opener = opener
        self._healthy = healthy
        self._closer = closer
        self._idle: list[Any] = []
        self._waiters: deque[asyncio.Future[Any]] = deque()
        self._open = 0

    async def acquire(self) -> Any:
        while True:
            if self._idle:
                return self._idle.pop()
            if self._open < self._size:
                self._open += 1
                try:
                    return await self._opener()
                except BaseException:
                    self._open -= 1
                    raise
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                connection = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    self.release(waiter.result())
                raise
            if connection is not None:
                return connection
            # None: a connection was dropped, so there is room to open another.

    def release(self, connection: Any) -> None:
        if not self._healthy(connection):
            self._open -= 1
            self._closer(connection)
            connection = None
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if connection is not None:
            self._idle.append(connection)

    def drain(self) -> list[Any]:
        """Forget every idle connection (for closing); waiters will open new ones."""
        idle, self._idle = self._idle, []
        self._open -= len(idle)
        return idle


class Database:
    """The serving connections of one database URL."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.dialect = dialect
        self._cache: dict[Any, Statement] = {}
        # Called with each statement's SQL before it runs (tests count queries with it).
        self.listeners: list[Callable[[str], None]] = []

    @staticmethod
    def for_url(url: str, dialect: sa.Dialect, pool_size: int = 10) -> Database:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return SqliteDatabase(dialect, parsed.database or "", max(pool_size // 2, 1))
        return PgDatabase(dialect, parsed, pool_size)

    begin = "BEGIN"
    _pool: _Pool

    async def run(self, work: Callable[[Connection], Awaitable[Any]], transaction: bool) -> Any:
        """`await work(conn)` on a pooled connection, in one transaction if asked."""
        raw = await self._pool.acquire()
        try:
            conn = self._connection(raw, transaction)
            if not transaction:
                return await work(conn)
            await conn._run(self.begin, [], False)
            try:
                result = await work(conn)
            except BaseException:
                if self._usable(raw):
                    await conn._run("ROLLBACK", [], False)
                raise
            await conn._run("COMMIT", [], False)
            return result
        finally:
            self._pool.release(raw)

    def _connection(self, raw: Any, transaction: bool) -> Connection:
        raise NotImplementedError

    def _usable(self, raw: Any) -> bool:
        return True

    async def close(self) -> None:
        raise NotImplementedError


# ------------------------------------------------------------------ PostgreSQL
_PG_UNAVAILABLE = ("08", "57P", "53")
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _pg_error(error: BaseException) -> DatabaseError | None:
    import asyncpg

    if isinstance(error, asyncpg.PostgresError):
        state = str(getattr(error, "sqlstate", "") or "")
        detail = str(getattr(error, "detail", "") or "")
        kind = "fault"
        if state.startswith("23"):
            kind = "integrity"
        elif state.startswith("22"):
            kind = "data"
        elif state.startswith(_PG_UNAVAILABLE):
            kind = "unavailable"
        return DatabaseError(kind, str(error), state, detail)
    if isinstance(error, asyncpg.InterfaceError | OSError | asyncio.TimeoutError):
        return DatabaseError("unavailable", str(error))
    return None


def _timestamp_in(value: datetime) -> tuple[int]:
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return ((value.replace(tzinfo=UTC) - _PG_EPOCH) // _MICROSECOND,)


def _timestamp_out(value: tuple[int]) -> datetime:
    return _PG_EPOCH + timedelta(microseconds=value[0])


_PG_INFINITY = {
    "infinity": datetime.max.replace(tzinfo=UTC),
    "-infinity": datetime.min.replace(tzinfo=UTC),
}
# The session's settings the text forms below depend on, sent when connecting.
PG_SESSION = {"DateStyle": "ISO", "TimeZone": "UTC"}


def _timestamptz_in(value: datetime | str) -> str:
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()
    return str(value)


def _timestamptz_out(text: str) -> datetime:
    # ISO text in UTC ("2026-01-01 12:00:00.5+00"), which `fromisoformat` reads in C: about
    # a third of the cost of decoding the binary form into a datetime by arithmetic.
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        special = _PG_INFINITY.get(text)
        if special is None:
            raise
        return special


async def _pg_init(connection: Any) -> None:
    # Text for UUIDs (what goes on the wire anyway), JSON decoded by orjson (binds arrive
    # serialised by the column types), timestamps with a zone as ISO text in UTC (see
    # PG_SESSION), and timestamps without a zone read as UTC, as the model's timestamps
    # always are.
    await connection.set_type_codec(
        "uuid", schema="pg_catalog", encoder=str, decoder=str, format="text"
    )
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, schema="pg_catalog", encoder=str, decoder=orjson.loads, format="text"
        )
    await connection.set_type_codec(
        "timestamptz",
        schema="pg_catalog",
        encoder=_timestamptz_in,
        decoder=_timestamptz_out,
        format="text",
    )
    await connection.set_type_codec(
        "timestamp",
        schema="pg_catalog",
        encoder=_timestamp_in,
        decoder=_timestamp_out,
        format="tuple",
    )


class PgConnection(Connection):
    __slots__ = ("_raw",)

    def __init__(self, raw: Any, database: PgDatabase) -> None:
        super().__init__(database.dialect, database._cache, database.listeners)
        self._raw = raw

    async def _run(
        self, sql: str, args: list[Any], rows: bool, point: bool = False
    ) -> tuple[list[Row], int]:
        try:
            if rows:
                records = await self._raw.fetch(sql, *args)
                return records, len(records)  # records read like dicts, and are cheaper
            status = await self._raw.execute(sql, *args)
        except Exception as error:
            translated = _pg_error(error)
            if translated is None:
                raise
            raise translated from error
        count = status.rsplit(" ", 1)[-1]
        return [], int(count) if count.isdigit() else 0


class PgDatabase(Database):
    def __init__(self, dialect: sa.Dialect, url: Any, pool_size: int) -> None:
        super().__init__(dialect)
        self._url = url
        self._pool = _Pool(pool_size, self._open, _pg_healthy, _pg_drop)

    async def _open(self) -> Any:
        import asyncpg

        url = self._url
        try:
            raw = await asyncpg.connect(
                user=url.username,
                password=url.password,
                host=url.host,
                port=url.port,
                database=url.database,
                server_settings=PG_SESSION,
            )
            await _pg_init(raw)
        except Exception as error:
            translated = _pg_error(error)
            if translated is None:
                raise
            raise translated from error
        return raw

    def _connection(self, raw: Any, transaction: bool) -> Connection:
        return PgConnection(raw, self)

    def _usable(self, raw: Any) -> bool:
        return not raw.is_closed()

    async def close(self) -> None:
        for raw in self._pool.drain():
            await raw.close()


def _pg_healthy(raw: Any) -> bool:
    # A connection left inside a transaction (a request cancelled mid-way) is dropped.
    return not raw.is_closed() and not raw.is_in_transaction()


def _pg_drop(raw: Any) -> None:
    raw.terminate()


# ---------------------------------------------------------------------- SQLite
_SQLITE_UNAVAILABLE = ("unable to open database", "database is locked", "disk I/O error")
SQLITE_PRAGMAS = ("journal_mode=WAL", "busy_timeout=5000", "foreign_keys=ON", "synchronous=NORMAL")


def _sqlite_error(error: BaseException) -> DatabaseError | None:
    text = str(error)
    if isinstance(error, sqlite3.IntegrityError):
        return DatabaseError("integrity", text)
    if isinstance(error, sqlite3.DataError):
        return DatabaseError("data", text)
    if isinstance(error, sqlite3.Error):
        unavailable = any(words in text for words in _SQLITE_UNAVAILABLE)
        return DatabaseError("unavailable" if unavailable else "fault", text)
    return None


def _sqlite_uuid_in(value: Any) -> str | None:
    # Stored as 32 hex digits, as SQLAlchemy stores them; rows hand them back as text.
    if value is None:
        return None
    if isinstance(value, UUID):
        return value.hex
    return str(value).replace("-", "").lower()


def _sqlite_uuid_out(value: str | None) -> str | None:
    # The same canonical text asyncpg's codec gives on PostgreSQL.
    if value is None or len(value) != 32:
        return value
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def _sqlite_timestamp_out(value: str | None) -> datetime | None:
    if value is None:
        return None
    stamp = datetime.fromisoformat(value)
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _sqlite_json_out(value: Any) -> Any:
    # A JSON column has NUMERIC affinity: a stored number comes back as a number.
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _sqlite_decoder(kind: Any) -> Processor | None:
    """Decoders for the column types every table has, cheaper than SQLAlchemy's regexes."""
    if isinstance(kind, sa.Uuid):
        return _sqlite_uuid_out
    if isinstance(kind, sa.JSON):
        return _sqlite_json_out
    base = kind.impl_instance if isinstance(kind, sa.TypeDecorator) else kind
    if isinstance(base, sa.DateTime) and base.timezone:
        return _sqlite_timestamp_out
    return None


class _SqliteHandle:
    """A sqlite3 connection and the one thread that runs its statements, in order.

    A queue and `call_soon_threadsafe` per statement, as aiosqlite does: cheaper than an
    executor's futures, and the thread keeps the connection to itself.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.raw: sqlite3.Connection | None = None
        # Statements submitted and not yet settled. A request cancelled while its statement
        # waits in the queue leaves it pending; the statement still runs (a BEGIN, say), so
        # such a connection is not handed to anyone else.
        self.pending = 0
        self.stopped = False
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="backsmith-sqlite", daemon=True)
        self._thread.start()

    def submit(self, function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """`function(*args)` on the connection's thread; the future settles on this loop."""
        if self.stopped:
            raise DatabaseError("unavailable", "the database is closing")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.pending += 1
        self._jobs.put((loop, future, function, args))
        return future

    def stop(self) -> None:
        """Close the connection after the statements already queued, and end the thread."""
        if not self.stopped:
            self.stopped = True
            self._jobs.put(None)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, function, args = job
            try:
                outcome = (function(*args), None)
            except BaseException as error:
                outcome = (None, error)
            # A loop that closed while the statement ran has no one waiting for it.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._settle, future, *outcome)
        self.close()

    def _settle(
        self, future: asyncio.Future[Any], result: Any, error: BaseException | None
    ) -> None:
        self.pending -= 1
        if future.done():  # the awaiting request was cancelled
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run(self, sql: str, args: list[Any]) -> tuple[list[Row], int]:
        if self.raw is None:
            self.raw = _sqlite_connect(self.path)
        return _sqlite_execute(self.raw, sql, args)

    @property
    def in_transaction(self) -> bool:
        return self.raw is not None and self.raw.in_transaction

    def close(self) -> None:
        if self.raw is not None:
            self.raw.close()
            self.raw = None


def _sqlite_connect(path: str, wait: float = 30, extra: Sequence[str] = ()) -> sqlite3.Connection:
    """A connection in autocommit mode with the serving pragmas (and `extra` after them)."""
    raw = sqlite3.connect(path, timeout=wait, isolation_level=None, check_same_thread=False)
    try:
        for pragma in (*SQLITE_PRAGMAS, *extra):
            raw.execute(f"PRAGMA {pragma}")
    except sqlite3.Error:
        raw.close()
        raise
    return raw


def _sqlite_execute(raw: sqlite3.Connection, sql: str, args: list[Any]) -> tuple[list[Row], int]:
    cursor = raw.execute(sql, args)
    try:
        if cursor.description is None:
            return [], cursor.rowcount
        names = [column[0] for column in cursor.description]
        found = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        return found, len(found)
    finally:
        # Resetting the statement ends its read transaction, so checkpoints can proceed.
        cursor.close()


class SqliteConnection(Connection):
    __slots__ = ("_database", "_handle", "_point_reads")

    def __init__(self, handle: _SqliteHandle, database: SqliteDatabase, point_reads: bool) -> None:
        super().__init__(database.dialect, database._cache, database.listeners)
        self._handle = handle
        self._database = database
        # Outside a transaction a point read may run on the reader connection instead.
        self._point_reads = point_reads

    async def _run(
        self, sql: str, args: list[Any], rows: bool, point: bool = False
    ) -> tuple[list[Row], int]:
        handle = self._handle
        try:
            if point and self._point_reads:
                found = self._database.read_now(sql, args)
                if found is not None:
                    return found
            return await handle.submit(handle.run, sql, args)  # type: ignore[no-any-return]
        except OverflowError:
            raise
        except Exception as error:
            translated = _sqlite_error(error)
            if translated is None:
                raise
            raise translated from error


class SqliteDatabase(Database):
    """A few connections to one file in WAL mode; writes take the write lock up front."""

    # A write takes the write lock up front: upgrading a read lock later fails at once
    # with "database is locked", whatever the busy timeout.
    begin = "BEGIN IMMEDIATE"

    def __init__(self, dialect: sa.Dialect, path: str, size: int) -> None:
        super().__init__(dialect)
        self._path = path
        self._handles: list[_SqliteHandle] = []
        self._pool = _Pool(size, self._open, _sqlite_healthy, self._drop)
        self._reader: sqlite3.Connection | None = None

    async def _open(self) -> _SqliteHandle:
        handle = _SqliteHandle(self._path)
        self._handles.append(handle)
        return handle

    def _connection(self, raw: Any, transaction: bool) -> Connection:
        return SqliteConnection(raw, self, point_reads=not transaction)

    def _usable(self, raw: Any) -> bool:
        return not raw.stopped  # a stopped connection discards its transaction on closing

    def read_now(self, sql: str, args: list[Any]) -> tuple[list[Row], int] | None:
        """A point read on this thread's reader connection; None when it would have to wait.

        In WAL mode a reader does not wait for writers, and a lookup by key takes
        microseconds: less than handing it to a connection's thread and back.
        """
        try:
            if self._reader is None:
                # Never waits: the loop's thread must not block on another process's lock.
                self._reader = _sqlite_connect(self._path, 0, ("busy_timeout=0", "query_only=ON"))
            return _sqlite_execute(self._reader, sql, args)
        except sqlite3.OperationalError as error:
            if any(words in str(error) for words in ("locked", "busy")):
                return None  # the caller hands the read to a connection that may wait
            raise

    def _drop(self, handle: _SqliteHandle) -> None:
        # Closing a connection discards its open transaction.
        if handle in self._handles:
            self._handles.remove(handle)
        handle.stop()

    async def close(self) -> None:
        """Stop every connection, in use or idle; requests still running get "unavailable"."""
        self._pool.drain()
        handles, self._handles = self._handles, []
        for handle in handles:
            handle.stop()
        for handle in handles:  # each closes its connection once its queue is done
            await asyncio.to_thread(handle.join, 10)
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def _sqlite_healthy(handle: _SqliteHandle) -> bool:
    return not handle.stopped and handle.pending == 0 and not handle.in_transaction
