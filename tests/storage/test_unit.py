"""The unit of work: hooks in the change's transaction, refusals as typed storage faults.

Real SQLite files and a real PostgreSQL database. Whether a write is in a transaction is
seen from a second connection: rows a transaction has not committed are not there.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from backsmith.storage.database import Database
from backsmith.storage.engine import async_url
from backsmith.storage.faults import (
    DatabaseFailure,
    NotNullViolation,
    ReferenceViolation,
    Unavailable,
    UniqueViolation,
    ValueOutOfRange,
)
from backsmith.storage.unit import UnitOfWork, run_unit

pytestmark = pytest.mark.anyio

SOURCE = Path(__file__).resolve().parents[2] / "src" / "backsmith"
METADATA = sa.MetaData()
ITEMS = sa.Table(
    "unit_items",
    METADATA,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("code", sa.String(20), unique=True, nullable=False),
)
CHILDREN = sa.Table(
    "unit_children",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("item_id", sa.BigInteger, sa.ForeignKey(ITEMS.c.id), nullable=False),
)


async def open_database(url: str, size: int = 1) -> Database:
    engine = create_async_engine(async_url(url))
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.drop_all)
        await conn.run_sync(METADATA.create_all)
    dialect = engine.dialect
    await engine.dispose()
    return Database.for_url(url, dialect, pool_size=size)


def insert(**values: Any) -> Any:
    return sa.insert(ITEMS).values(**values)


async def count(db: Database) -> int:
    return int(await db.run(_count_on, transaction=False))


async def test_a_hooks_insert_commits_with_the_change(database_url: str) -> None:
    db = await open_database(database_url, size=4)
    try:
        seen: list[int] = []

        async def audit(conn: Any) -> None:
            seen.append(await _count_on(conn))  # the change is visible to the hook
            await conn.execute(insert(id=2, code="audit"))

        unit = UnitOfWork(db)
        unit.before_commit(audit)
        unit.before_commit(lambda conn: conn.execute(insert(id=3, code="outbox")))
        await unit.run(lambda conn: conn.execute(insert(id=1, code="change")))
        assert seen == [1]
        codes = await db.run(lambda c: c.execute(sa.select(ITEMS.c.code).order_by("id")), False)
        assert codes.scalars() == ["change", "audit", "outbox"]  # in the order registered
    finally:
        await db.close()


async def test_a_hook_that_raises_leaves_nothing_written(database_url: str) -> None:
    db = await open_database(database_url, size=4)
    try:

        async def refuse(conn: Any) -> None:
            await conn.execute(insert(id=2, code="audit"))
            raise RuntimeError("the record could not be written")

        with pytest.raises(RuntimeError):
            await run_unit(db, lambda c: c.execute(insert(id=1, code="a")), hooks=[refuse])
        assert await count(db) == 0

        async def change(conn: Any) -> None:
            await conn.execute(insert(id=1, code="a"))
            await conn.execute(insert(id=2, code="b"))

        async def duplicate(conn: Any) -> None:
            await conn.execute(insert(id=3, code="a"))  # refused by the database

        with pytest.raises(UniqueViolation) as refused:
            await run_unit(db, change, transaction=True, hooks=[duplicate])
        assert refused.value.column == "code"
        assert await count(db) == 0
    finally:
        await db.close()


async def test_a_single_statement_write_with_a_hook_is_in_a_transaction(
    database_url: str,
) -> None:
    db = await open_database(database_url, size=4)
    try:
        from_outside: list[int] = []

        async def look_from_another_connection(conn: Any) -> None:
            from_outside.append(await count(db))

        await run_unit(
            db,
            lambda c: c.execute(insert(id=1, code="a")),
            hooks=[look_from_another_connection],
        )
        # Without a hook the same write commits by itself at once.
        await run_unit(db, lambda c: c.execute(insert(id=2, code="b")))
        without_hook = await count(db)
        assert from_outside == [0]  # not committed while the hook ran
        assert without_hook == 2
    finally:
        await db.close()


async def test_refusals_come_out_as_typed_faults(database_url: str) -> None:
    db = await open_database(database_url)
    try:
        # First: sqlite3 reports a failed bind with the connection's last refusal, if any.
        if database_url.startswith("sqlite"):  # SQLite binds no integer past 64 bits
            with pytest.raises(ValueOutOfRange):
                await run_unit(db, lambda c: c.execute(insert(id=2**70, code="big")))
        await run_unit(db, lambda c: c.execute(insert(id=1, code="a")))
        with pytest.raises(UniqueViolation) as unique:
            await run_unit(db, lambda c: c.execute(insert(id=2, code="a")))
        assert unique.value.column == "code"
        with pytest.raises(NotNullViolation) as missing:
            await run_unit(db, lambda c: c.execute(insert(id=3, code=None)))
        assert missing.value.column == "code"
        with pytest.raises(ReferenceViolation):
            await run_unit(db, lambda c: c.execute(sa.insert(CHILDREN).values(id=1, item_id=9)))
        with pytest.raises(DatabaseFailure):
            await run_unit(db, lambda c: c.execute(sa.text("SELECT * FROM no_such_table")))
    finally:
        await db.close()


async def test_an_unreachable_server_is_an_unavailable_fault() -> None:
    from sqlalchemy.dialects.postgresql import asyncpg

    db = Database.for_url("postgresql://nobody@127.0.0.1:1/none", asyncpg.dialect())
    with pytest.raises(Unavailable):
        await run_unit(db, lambda c: c.execute(sa.text("SELECT 1")))
    await db.close()


def test_storage_imports_nothing_from_http() -> None:
    offending = []
    for path in sorted((SOURCE / "storage").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            problem = "backsmith.errors.Problem"
            if any(n.startswith("backsmith.http") or n == problem for n in names):
                offending.append(path.name)
    assert offending == []


async def _count_on(conn: Any) -> int:
    return int((await conn.execute(sa.select(sa.func.count()).select_from(ITEMS))).scalar_one())
