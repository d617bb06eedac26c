"""SQLite serving connections: each on a thread of its own, point reads on the loop's thread."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from backsmith.storage.database import Database, Waits
from backsmith.storage.pool import Pool
from backsmith.storage.statements import Connection, DatabaseError, Row

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
            outcome: tuple[Any, BaseException | None]
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

    async def run_sql(
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
    connection_type: type[SqliteConnection] = SqliteConnection

    def __init__(self, dialect: sa.Dialect, path: str, size: int, waits: Waits) -> None:
        super().__init__(dialect)
        self._path = path
        self._handles: list[_SqliteHandle] = []
        self.pool = Pool(size, self._open, _sqlite_healthy, self._drop, waits.pool or None)
        self._reader: sqlite3.Connection | None = None

    async def _open(self) -> _SqliteHandle:
        handle = _SqliteHandle(self._path)
        self._handles.append(handle)
        return handle

    def connection(self, raw: Any, transaction: bool) -> Connection:
        return self.connection_type(raw, self, point_reads=not transaction)

    def usable(self, raw: Any) -> bool:
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
        self.pool.drain()
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
