"""PostgreSQL serving connections on asyncpg: refusals classified, values decoded by codecs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from backsmith.storage.database import Database, Waits
from backsmith.storage.pool import Pool
from backsmith.storage.statements import Connection, DatabaseError, Row

# Unreachable, shutting down, out of resources; and a lock or statement past its timeout
# (lock_timeout, statement_timeout): a 503 the client may retry, never a 500.
_PG_UNAVAILABLE = ("08", "57P", "53", "55P03", "57014")
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


# The last date-time written out and its text: a create binds one instant twice (its
# created and updated stamps), and the text costs about a microsecond to make.
_last_stamp: tuple[datetime | None, str] = (None, "")


def _timestamptz_in(value: datetime | str) -> str:
    global _last_stamp
    if value is _last_stamp[0]:
        return _last_stamp[1]
    if isinstance(value, datetime):
        # orjson's RFC 3339 text, a naive value written as UTC: a fifth of the instructions
        # of `isoformat`, which builds its text with a printf-style format.
        try:
            text = orjson.dumps(value, option=orjson.OPT_NAIVE_UTC)[1:-1].decode()
        except orjson.JSONEncodeError:  # a tzinfo orjson does not know
            text = value.isoformat()
        _last_stamp = (value, text)
        return text
    return str(value)


def read_pg_timestamp(text: str) -> datetime:
    """A timestamp as PostgreSQL writes it in text (DateStyle ISO), as a `datetime`."""
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
        decoder=read_pg_timestamp,
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

    async def run_sql(
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
    connection_type: type[PgConnection] = PgConnection

    def __init__(
        self, dialect: sa.Dialect, url: Any, pool_size: int, waits: Waits, pgbouncer: bool = False
    ) -> None:
        super().__init__(dialect)
        self._url = url
        self._waits = waits
        self.pool = Pool(pool_size, self._open, _pg_healthy, _pg_drop, waits.pool or None)
        self._session = dict(PG_SESSION)
        # PgBouncer passes on only the parameters it tracks (it refuses the others), and a
        # server connection serves many clients: the timeouts are its connect_query's.
        if not pgbouncer:
            self._session["lock_timeout"] = f"{int(waits.lock * 1000)}ms"
            self._session["statement_timeout"] = f"{int(waits.statement * 1000)}ms"
        # asyncpg keeps statements prepared per connection; behind PgBouncer the server
        # connection under it changes between transactions, so none is kept.
        self._statements = 0 if pgbouncer else 100

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
                server_settings=self._session,
                statement_cache_size=self._statements,
                timeout=self._waits.pool or 60,
            )
            await _pg_init(raw)
        except Exception as error:
            translated = _pg_error(error)
            if translated is None:
                raise
            raise translated from error
        return raw

    def connection(self, raw: Any, transaction: bool) -> Connection:
        return self.connection_type(raw, self)

    def usable(self, raw: Any) -> bool:
        return not raw.is_closed()

    async def close(self) -> None:
        for raw in self.pool.drain():
            await raw.close()


def _pg_healthy(raw: Any) -> bool:
    # A connection left inside a transaction (a request cancelled mid-way) is dropped.
    return not raw.is_closed() and not raw.is_in_transaction()


def _pg_drop(raw: Any) -> None:
    raw.terminate()
