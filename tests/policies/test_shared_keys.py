"""Idempotency keys across instances on one PostgreSQL, and across a process killed mid-way."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from policy_servers import KEYED, Instance, start_instances

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]
PAYMENT = {"reference": "one", "amount_cents": 100}


async def count(url: str, sql: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def test_200_requests_with_one_key_over_two_instances_make_one_row(
    pg_database: str, instances: list[Instance], tmp_path: Path
) -> None:
    env = {"BACKSMITH_DATABASE_URL": pg_database}
    first, second = start_instances(2, KEYED, tmp_path, env, instances)
    limits = httpx.Limits(max_connections=200, keepalive_expiry=1.0)  # under the server's 5 s
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    f"{(first, second)[n % 2].base}/payments",
                    json=PAYMENT,
                    headers={"Idempotency-Key": "one-payment"},
                )
                for n in range(200)
            )
        )
        other = await client.post(
            f"{second.base}/payments",
            json={**PAYMENT, "amount_cents": 5},
            headers={"Idempotency-Key": "one-payment"},
        )
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {201, 409}, sorted(set(statuses))
    made = [answer for answer in answers if answer.status_code == 201]
    assert {answer.content for answer in made} == {made[0].content}
    assert await count(pg_database, "SELECT count(*) FROM payments") == 1
    # The one row's, whatever its number: a request that lost the race drew a number from
    # the sequence in its own INSERT before it failed, as any aborted INSERT does.
    made_id = await count(pg_database, "SELECT id FROM payments")
    assert {answer.headers["location"] for answer in made} == {f"/payments/{made_id}"}
    assert other.status_code == 422


async def test_a_process_killed_amid_keyed_creates_leaves_every_row_with_its_record(
    pg_database: str, instances: list[Instance], tmp_path: Path
) -> None:
    env = {"BACKSMITH_DATABASE_URL": pg_database, "BACKSMITH_IDEMPOTENCY_LEASE_SECONDS": "2"}
    (server,) = start_instances(1, KEYED, tmp_path, env, instances)
    keys = [f"kill-{n}" for n in range(100)]

    async def send(client: httpx.AsyncClient, base: str, key: str) -> int:
        body = {"reference": key, "amount_cents": 100}
        try:
            answer = await client.post(
                f"{base}/payments", json=body, headers={"Idempotency-Key": key}
            )
        except httpx.TransportError:
            return 0  # the server died under it
        return answer.status_code

    acked: list[str] = []
    enough = random.randrange(10, 60)  # killed once this many were answered, mid-stream
    lanes = asyncio.Semaphore(8)

    async def stream(client: httpx.AsyncClient, key: str) -> int:
        async with lanes:
            status = await send(client, server.base, key)
        if status == 201:
            acked.append(key)
            if len(acked) == enough:
                os.killpg(server.process.pid, signal.SIGKILL)
        return status

    async with httpx.AsyncClient(timeout=10) as client:
        first = await asyncio.gather(*(stream(client, key) for key in keys))
    server.stop()
    acknowledged = {key for key, status in zip(keys, first, strict=True) if status == 201}
    assert len(acknowledged) >= enough and 0 in first  # killed with requests in flight
    # Every committed row has its finished record, and every finished record its row.
    rows = await count(pg_database, "SELECT count(*) FROM payments")
    done = await count(pg_database, "SELECT count(*) FROM backsmith_idempotency WHERE state='done'")
    assert rows == done >= len(acknowledged)
    (again,) = start_instances(1, KEYED, tmp_path, env, instances)
    time.sleep(2.1)  # claims left running by the killed process: their lease runs out
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(3):
            retried = await asyncio.gather(*(send(client, again.base, key) for key in keys))
            if set(retried) == {201}:
                break
    assert set(retried) == {201}
    per_key = "SELECT count(*) FROM (SELECT reference FROM payments GROUP BY reference) AS r"
    assert (
        await count(pg_database, per_key)
        == await count(pg_database, "SELECT count(*) FROM payments")
        == len(keys)
    )  # no key made two rows, none was lost
