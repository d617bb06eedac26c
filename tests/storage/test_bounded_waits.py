"""Waiting on the database is bounded: a held lock, a long statement, a busy pool, and a
deadlock or serialization failure run again. PostgreSQL, where locks are held per row and
table; SQLite serializes its writers instead."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from conftest import BOOKSHOP, client_for, start_app, stop_app

from backsmith.api import load_model
from backsmith.http.app import BacksmithApp
from backsmith.storage.database import Database, Waits
from backsmith.storage.engine import dialect_for
from backsmith.storage.faults import Unavailable
from backsmith.storage.statements import Connection
from backsmith.storage.unit import Work, run_unit

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


@pytest.fixture
async def bookshop_app(pg_url: str) -> AsyncIterator[BacksmithApp]:
    waits = {"lock_timeout_ms": 300, "pool_timeout_ms": 500}
    app = await start_app(load_model(BOOKSHOP), pg_url, **waits)
    yield app
    await stop_app(app)


async def test_a_held_table_lock_stalls_only_its_table_and_only_for_the_timeout(
    bookshop_app: BacksmithApp, pg_url: str
) -> None:
    holder = await asyncpg.connect(pg_url)
    await holder.execute("BEGIN; LOCK TABLE authors IN ACCESS EXCLUSIVE MODE")
    try:
        async with client_for(bookshop_app) as client:
            start = time.monotonic()
            answers = await asyncio.gather(*(client.get("/authors") for _ in range(15)))
            locked_for = time.monotonic() - start
            customers = await client.get("/customers")
            ready = await client.get("/readyz")
    finally:
        await holder.execute("ROLLBACK")
        await holder.close()
    # 15 requests for 10 connections: each waits 0.3 s for the lock, the last ones 0.5 s
    # more at most for a connection; every one is answered, none hangs.
    assert {answer.status_code for answer in answers} == {503}
    assert locked_for < 3
    problem = answers[0].json()
    assert problem["code"] == "BSM512" and answers[0].headers["retry-after"] == "1"
    assert customers.status_code == 200 and ready.status_code == 200
    async with client_for(bookshop_app) as client:
        assert (await client.get("/authors")).status_code == 200  # released: served again


async def test_a_statement_past_its_timeout_is_stopped_and_unavailable(pg_url: str) -> None:
    database = Database.for_url(pg_url, dialect_for(pg_url), waits=Waits(statement=0.2))
    start = time.monotonic()
    with pytest.raises(Unavailable):
        await run_unit(database, lambda conn: conn.run_sql("SELECT pg_sleep(3)", [], True))
    assert time.monotonic() - start < 2
    await database.close()


async def test_a_deadlocked_unit_runs_again_and_both_pass(pg_url: str) -> None:
    setup = await asyncpg.connect(pg_url)
    await setup.execute("DROP TABLE IF EXISTS counters; CREATE TABLE counters (id int, n int)")
    await setup.execute("INSERT INTO counters VALUES (1, 0), (2, 0)")
    database = Database.for_url(pg_url, dialect_for(pg_url), waits=Waits(lock=5))
    runs = {"a": 0, "b": 0}
    both_locked_one = asyncio.Barrier(2)

    def crossing(name: str, first: int, second: int) -> Work[None]:
        async def work(conn: Connection) -> None:
            runs[name] += 1
            update = "UPDATE counters SET n = n + 1 WHERE id = $1"
            await conn.run_sql(update, [first], False)
            if runs[name] == 1:  # the first time, each waits for the other: a deadlock
                await both_locked_one.wait()
            await conn.run_sql(update, [second], False)

        return work

    await asyncio.gather(
        run_unit(database, crossing("a", 1, 2), transaction=True),
        run_unit(database, crossing("b", 2, 1), transaction=True),
    )
    assert sorted(runs.values()) == [1, 2]  # one of the two was undone and ran again
    assert [r["n"] for r in await setup.fetch("SELECT n FROM counters ORDER BY id")] == [2, 2]
    await setup.execute("DROP TABLE counters")
    await setup.close()
    await database.close()


async def test_fifty_creates_with_one_title_all_get_a_slug_of_their_own(
    bookshop_app: BacksmithApp,
) -> None:
    async with client_for(bookshop_app) as client:
        author = (await client.post("/authors", json={"name": "Ann Leckie"})).json()

        def book(number: int) -> dict[str, object]:
            isbn = f"978{number:010d}"
            book = {"title": "Ancillary Justice", "isbn": isbn, "author_id": author["id"]}
            return {**book, "price_cents": 1500}

        answers = await asyncio.gather(*(client.post("/books", json=book(n)) for n in range(50)))
    assert [a.status_code for a in answers] == [201] * 50, [a.text for a in answers][:3]
    assert len({a.json()["slug"] for a in answers}) == 50


def test_the_default_waits_are_the_settings() -> None:
    from backsmith.settings import load_settings

    settings = load_settings({}, environ={"BACKSMITH_LOCK_TIMEOUT_MS": "1500"})
    assert Waits.of(settings) == Waits(pool=5.0, lock=1.5, statement=30.0)


class Cable:
    """A TCP relay to PostgreSQL on a port of its own, cut and mended by the test: the
    database going away and coming back, without touching the server itself."""

    def __init__(self) -> None:
        self.port = 0
        self.server: asyncio.Server | None = None
        self.links: list[asyncio.StreamWriter] = []

    async def mend(self) -> None:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.links:
            writer.close()
        self.links.clear()
        await self.server.wait_closed()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5432)
        self.links += [writer, up_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_the_database_gone_is_503s_in_the_gap_and_served_again_after(pg_url: str) -> None:
    cable = Cable()
    await cable.mend()
    through = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{cable.port}")
    app = await start_app(load_model(BOOKSHOP), through)
    try:
        async with client_for(app) as client:
            assert (await client.get("/authors")).status_code == 200
            await cable.cut()
            start = time.monotonic()
            gap = [await client.get("/authors") for _ in range(5)]
            assert time.monotonic() - start < 5
            await cable.mend()
            after = [(await client.get("/authors")).status_code for _ in range(3)]
    finally:
        await stop_app(app)
        await cable.cut()
    assert {answer.status_code for answer in gap} == {503}
    assert gap[0].headers["retry-after"] == "1"
    assert after[-1] == 200  # reconnected by itself
