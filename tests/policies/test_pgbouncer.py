"""Two instances behind one PgBouncer in transaction pooling, with two server connections.

Each instance keeps ten client connections, so every transaction may run on a server
connection another client used last: a statement kept prepared on one would be missing,
or named twice, on another. With `BACKSMITH_PGBOUNCER=true` none is kept. The tables are
made through PgBouncer too (`--create-tables`), by SQLAlchemy's engine.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest
from policy_servers import KEYED, Instance, PgBouncer, start_instances

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


async def test_instances_behind_pgbouncer_serve_keys_writes_and_reads(
    pg_database: str, pgbouncer: PgBouncer, instances: list[Instance], tmp_path: Path
) -> None:
    env = {"BACKSMITH_DATABASE_URL": pgbouncer.url(pg_database), "BACKSMITH_PGBOUNCER": "true"}
    first, second = start_instances(2, KEYED, tmp_path, env, instances)
    bases = (first.base, second.base)
    # An idle connection is dropped before the server's keep-alive (5 s) would close it
    # under a request: on a slow machine the creates alone may outlast it.
    limits = httpx.Limits(max_connections=100, keepalive_expiry=1.0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def pay(n: int) -> httpx.Response:
            payment = {"reference": f"inv-{n % 40}", "amount_cents": 100 + n % 40}
            key = {"Idempotency-Key": f"payment-{n % 40}"}
            for attempt in range(3):  # a keyed create is sent again when its answer is lost,
                try:  # as a client would (seen once under a starved CPU: a reset connection)
                    return await client.post(f"{bases[n % 2]}/payments", json=payment, headers=key)
                except httpx.TransportError:
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

        paid = await asyncio.gather(*(pay(n) for n in range(160)))
        statuses = {answer.status_code for answer in paid}
        assert statuses <= {201, 409}, [a.text for a in paid if a.status_code not in (201, 409)]
        reads = await asyncio.gather(
            *(client.get(f"{bases[n % 2]}/payments/{1 + n % 40}") for n in range(120))
        )
        assert {answer.status_code for answer in reads} <= {200, 404}
        listed = await client.get(f"{first.base}/payments")
        assert listed.status_code == 200
        made = listed.json()
        assert len(made) == len({row["reference"] for row in made}) <= 40
        one = f"{second.base}/payments/{made[0]['id']}"
        tag = (await client.get(one)).headers["etag"]
        change = {"amount_cents": 7}
        keyed = {"If-Match": tag, "Idempotency-Key": "change-1"}
        assert (await client.patch(one, json=change, headers=keyed)).status_code == 200
        assert (await client.get(f"{first.base}/readyz")).status_code == 200
    conn = await asyncpg.connect(pg_database)
    try:
        rows = await conn.fetchval("SELECT count(*) FROM payments")
        done = await conn.fetchval("SELECT count(*) FROM backsmith_idempotency")
    finally:
        await conn.close()
    assert rows == len(made) and done >= rows


def test_a_prepared_statement_refused_at_start_up_points_at_the_setting() -> None:
    from backsmith.storage.schema import _hint

    clash = Exception('prepared statement "__asyncpg_stmt_1__" already exists')
    assert "BACKSMITH_PGBOUNCER=true" in _hint(clash)
    assert _hint(Exception("connection refused")) == ""
