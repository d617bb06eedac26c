"""The serving connections: transactions, the pool, driver refusals, values in and out.

Real SQLite files and a real PostgreSQL database; the pool is exercised with a size of one
so that waiting, handing over and dropping a spoilt connection all happen.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from backsmith.model.types import Field, FieldType, Resource
from backsmith.storage.columns import UtcDateTime
from backsmith.storage.database import Database, DatabaseError, Result
from backsmith.storage.engine import async_url
from backsmith.storage.ordering import order_keys
from backsmith.storage.queries import TableQueries
from backsmith.storage.statements import constant

pytestmark = pytest.mark.anyio

METADATA = sa.MetaData()
ITEMS = sa.Table(
    "items",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("code", sa.String(20), unique=True, nullable=False),
    sa.Column("ref", sa.Uuid(as_uuid=True)),
    sa.Column("data", sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")),
    sa.Column("at", sa.DateTime(timezone=False)),
)
STAMPS = sa.Table(
    "stamps",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", UtcDateTime()),
)


_STAMPS_RESOURCE = Resource(
    "stamps",
    "stamps",
    (
        Field("id", "id", FieldType.INTEGER, nullable=False, primary_key=True),
        Field("at", "at", FieldType.DATETIME),
    ),
    ("id",),
)


async def open_database(url: str, size: int = 1) -> Database:
    engine = create_async_engine(async_url(url))
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # other tests' tables may refer to these
            for table in METADATA.sorted_tables:
                await conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
        await conn.run_sync(METADATA.drop_all)
        await conn.run_sync(METADATA.create_all)
    dialect = engine.dialect
    await engine.dispose()
    return Database.for_url(url, dialect, pool_size=size)


def insert(**values: Any) -> Any:
    return sa.insert(ITEMS).values(**values)


async def count(db: Database) -> int:
    async def work(conn: Any) -> int:
        result = await conn.execute(sa.select(sa.func.count()).select_from(ITEMS))
        return int(result.scalar_one())

    return int(await db.run(work, transaction=False))


async def test_a_failed_transaction_leaves_nothing_behind(database_url: str) -> None:
    db = await open_database(database_url)
    try:

        async def half_way(conn: Any) -> None:
            await conn.execute(insert(id=1, code="a"))
            await conn.execute(insert(id=2, code="a"))  # the same code: refused

        with pytest.raises(DatabaseError) as refused:
            await db.run(half_way, transaction=True)
        assert refused.value.kind == "integrity"
        assert await count(db) == 0
    finally:
        await db.close()


async def test_values_round_trip_through_the_column_types(database_url: str) -> None:
    db = await open_database(database_url)
    ref = UUID("12345678-1234-5678-1234-567812345678")
    at = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
    try:

        async def write(conn: Any) -> Any:
            statement = sa.insert(ITEMS).returning(*ITEMS.c)
            values = {"id": 1, "code": "x", "ref": ref, "data": {"a": [1, None]}, "at": at}
            return (await conn.execute(statement.values(values))).one()

        row = await db.run(write, transaction=True)
        assert row["data"] == {"a": [1, None]}
        assert str(row["ref"]) == str(ref)

        async def read(conn: Any) -> Result:
            return await conn.execute(sa.select(ITEMS.c.at, ITEMS.c.code))

        result = await db.run(read, transaction=False)
        assert result.scalars() == [result.first()["at"]]  # type: ignore[index]
        if database_url.startswith("postgresql"):
            # A timestamp without a zone is read as UTC, like the model's own timestamps.
            assert result.first()["at"] == at  # type: ignore[index]
        with pytest.raises(DatabaseError):
            (
                await db.run(lambda c: c.execute(sa.select(ITEMS).where(ITEMS.c.id == 9)), False)
            ).one()
    finally:
        await db.close()


async def test_zoned_timestamps_read_back_in_utc(database_url: str) -> None:
    db = await open_database(database_url)
    plus_two = timezone(timedelta(hours=2))
    given = {
        1: datetime(2026, 1, 2, 5, 4, 5, 250000, tzinfo=plus_two),
        2: datetime(2026, 1, 2, 3, 4, 5),  # naive: the model's timestamps are UTC
        3: datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    }
    try:

        async def write(conn: Any) -> None:
            for key, at in given.items():
                await conn.execute(sa.insert(STAMPS).values(id=key, at=at))
            if database_url.startswith("postgresql"):
                await conn.execute(sa.text("INSERT INTO stamps VALUES (4, 'infinity')"))

        await db.run(write, transaction=True)
        rows = (await db.run(lambda c: c.execute(sa.select(STAMPS).order_by("id")), False)).rows
        found = {row["id"]: row["at"] for row in rows}
        assert found[1] == datetime(2026, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)
        assert found[2] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert found[3] == given[3]
        assert all(at.utcoffset() == timedelta(0) for at in found.values())
        if database_url.startswith("postgresql"):
            assert found[4] == datetime.max.replace(tzinfo=UTC)
    finally:
        await db.close()


async def test_rows_read_for_an_answer_hold_date_times_as_postgresql_text(
    database_url: str,
) -> None:
    db = await open_database(database_url)
    queries = TableQueries(STAMPS)
    at = datetime(2026, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)
    try:

        async def write(conn: Any) -> None:
            await conn.execute(sa.insert(STAMPS).values(id=1, at=at))
            if database_url.startswith("postgresql"):
                await conn.execute(sa.text("INSERT INTO stamps VALUES (2, '-infinity')"))

        await db.run(write, transaction=True)
        one = await db.run(lambda c: queries.fetch_one(c, {"id": 1}, answered=True), False)
        order = order_keys(STAMPS, _STAMPS_RESOURCE, ["-at"])
        page = await db.run(lambda c: queries.page(c, {}, order, 5, answered=True), False)
        plain = await db.run(lambda c: queries.fetch_one(c, {"id": 1}), False)
        assert plain is not None and plain["at"] == at
        assert one is not None
        if database_url.startswith("postgresql"):
            # the text the database writes of it in the session's zone, UTC
            assert one["at"] == page[0]["at"] == "2026-01-02 03:04:05.25+00"
            assert page[1]["at"] == "-infinity"
        else:  # SQLite's rows hold datetimes either way
            assert one["at"] == page[0]["at"] == at
    finally:
        await db.close()


async def test_one_connection_serves_callers_in_turn(database_url: str) -> None:
    db = await open_database(database_url, size=1)
    try:

        async def slow(conn: Any, n: int) -> int:
            await conn.execute(insert(id=n, code=f"c{n}"))
            await asyncio.sleep(0.01)
            return n

        done = await asyncio.gather(
            *(db.run(lambda c, n=n: slow(c, n), transaction=True) for n in range(5))
        )
        assert done == [0, 1, 2, 3, 4]
        assert await count(db) == 5
    finally:
        await db.close()


async def test_a_connection_left_in_a_transaction_is_replaced(database_url: str) -> None:
    db = await open_database(database_url, size=1)
    try:

        async def leave_open(conn: Any) -> None:
            begin = "BEGIN IMMEDIATE" if conn.dialect.name == "sqlite" else "BEGIN"
            await conn.execute(sa.text(begin))
            await conn.execute(insert(id=1, code="never"))

        await db.run(leave_open, transaction=False)
        assert await count(db) == 0  # a new connection; the spoilt one's work was not kept
    finally:
        await db.close()


async def test_driver_refusals_are_classified(database_url: str) -> None:
    db = await open_database(database_url)
    try:
        with pytest.raises(DatabaseError) as fault:
            await db.run(lambda c: c.execute(sa.text("SELECT * FROM no_such_table")), False)
        assert fault.value.kind == "fault"
        await db.run(lambda c: c.execute(insert(id=1, code="a")), True)
        with pytest.raises(DatabaseError) as duplicate:
            await db.run(lambda c: c.execute(insert(id=2, code="a")), True)
        assert duplicate.value.kind == "integrity"
        if database_url.startswith("postgresql"):
            assert duplicate.value.sqlstate == "23505"
            assert "code" in duplicate.value.detail
    finally:
        await db.close()


async def test_an_unreachable_server_is_unavailable() -> None:
    from sqlalchemy.dialects.postgresql import asyncpg

    db = Database.for_url("postgresql://nobody@127.0.0.1:1/none", asyncpg.dialect())
    with pytest.raises(DatabaseError) as refused:
        await db.run(lambda c: c.execute(sa.text("SELECT 1")), False)
    assert refused.value.kind == "unavailable"
    await db.close()


async def test_point_reads_see_their_own_transaction(database_url: str) -> None:
    """A lookup by key inside a transaction reads that transaction's uncommitted rows."""
    db = await open_database(database_url)
    queries = TableQueries(ITEMS)
    try:

        async def write_then_read(conn: Any) -> Any:
            await conn.execute(insert(id=1, code="own", ref=UUID(int=7)))
            return await queries.fetch_one(conn, {"id": 1})

        row = await db.run(write_then_read, transaction=True)
        assert row is not None and row["code"] == "own"
        # UUIDs read back as canonical text on every dialect, and bind back as given.
        assert row["ref"] == str(UUID(int=7))
        again = await db.run(lambda c: queries.fetch_one(c, {"ref": row["ref"]}), False)
        assert again is None or again["id"] == 1  # `ref` is no key: any read will do
        found = await db.run(lambda c: queries.fetch_one(c, {"code": "own"}), False)
        assert found is not None and found["id"] == 1
        if database_url.startswith("sqlite"):
            assert db._reader is not None  # type: ignore[attr-defined]  # the unique `code`
    finally:
        await db.close()


async def test_a_locked_sqlite_file_sends_point_reads_to_a_waiting_connection(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    db = await open_database(url)
    queries = TableQueries(ITEMS)
    try:
        # Another process holds the file exclusively; nothing of ours has it open yet.
        holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
        holder.execute("INSERT INTO items (id, code) VALUES (1, 'a')")
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE items SET code = 'b' WHERE id = 1")
        reading = asyncio.ensure_future(db.run(lambda c: queries.fetch_one(c, {"id": 1}), False))
        await asyncio.sleep(0.3)
        assert not reading.done()  # the reader could not wait: a connection's thread does
        holder.execute("COMMIT")
        holder.close()
        row = await asyncio.wait_for(reading, 10)
        assert row is not None and row["code"] == "b"
    finally:
        await db.close()


def _visible_rows(path: Path) -> int:
    """Rows another process sees: only what was committed."""
    with sqlite3.connect(path) as other:
        return int(other.execute("SELECT count(*) FROM items").fetchone()[0])


async def test_a_request_cancelled_while_it_begins_leaves_no_open_transaction(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cancel.db"
    db = await open_database(f"sqlite:///{path}", size=1)
    try:
        for n in range(8):

            async def hold(conn: Any) -> None:
                await asyncio.sleep(1)

            started = asyncio.ensure_future(db.run(hold, transaction=True))
            for _ in range(n % 4):  # cancel at several points: before, during, after BEGIN
                await asyncio.sleep(0)
            started.cancel()
            with pytest.raises(asyncio.CancelledError):
                await started
            await db.run(lambda c, n=n: c.execute(insert(id=n, code=f"c{n}")), False)
            assert _visible_rows(path) == n + 1  # committed, not stuck in a stray BEGIN
    finally:
        await db.close()


async def test_sqlite_json_columns_holding_bare_numbers_read_back(tmp_path: Path) -> None:
    path = tmp_path / "numbers.db"
    db = await open_database(f"sqlite:///{path}")
    try:
        with sqlite3.connect(path) as other:  # JSON columns have NUMERIC affinity
            other.execute("""INSERT INTO items (id, code, data) VALUES (1, 'n', '5')""")
        result = await db.run(lambda c: c.execute(sa.select(ITEMS.c.data)), False)
        assert result.scalars() == [5]
    finally:
        await db.close()


async def test_closing_with_requests_running_answers_them(tmp_path: Path) -> None:
    db = await open_database(f"sqlite:///{tmp_path / 'closing.db'}", size=2)

    async def slow(conn: Any) -> None:
        await conn.execute(insert(id=1, code="a"))
        await asyncio.sleep(0.2)
        await conn.execute(insert(id=2, code="b"))

    running = asyncio.ensure_future(db.run(slow, transaction=True))
    await asyncio.sleep(0.05)
    await asyncio.wait_for(db.close(), 10)
    with pytest.raises(DatabaseError) as refused:
        await asyncio.wait_for(running, 5)
    assert refused.value.kind == "unavailable"
    assert _visible_rows(tmp_path / "closing.db") == 0  # the half-done transaction is gone


async def test_constants_written_into_a_statement_read_back_as_given(database_url: str) -> None:
    db = await open_database(database_url)
    texts = ["it's", "a%b:c", "back\\slash", "", "ünï 'twice' ''"]
    try:

        async def read(conn: Any) -> Any:
            columns = [constant(t).label(f"t{i}") for i, t in enumerate(texts)]
            statement = sa.select(*columns, constant(-7).label("n"), constant(0).label("z"))
            return (await conn.execute(statement)).one()

        row = await db.run(read, transaction=False)
        assert [row[f"t{i}"] for i in range(len(texts))] == texts
        assert (row["n"], row["z"]) == (-7, 0)
    finally:
        await db.close()
    for wrong in (True, 1.5, None, "nul\0"):
        with pytest.raises((TypeError, ValueError)):
            constant(wrong)  # type: ignore[arg-type]
