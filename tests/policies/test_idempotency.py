"""Idempotency keys in one process: replays byte for byte, refusals, scope, failures.

The contract (tests/fixtures/policies/keyed.yaml) says nothing of keys on its POSTs, which
honour them all the same, and requires one on its PATCH; its capture handler
(keyed/hooks.py) refuses some payments and fails once after writing when asked to.
SQLite and PostgreSQL both.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from conftest import BOOKSHOP, FIXTURES, ROOT, bearer, client_for, served, start_app, stop_app

from backsmith.api import load_model
from backsmith.http.app import BacksmithApp
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

KEYED = FIXTURES / "policies" / "keyed.yaml"
PAYMENT = {"reference": "inv-1", "amount_cents": 1200}


@pytest.fixture(scope="module")
def keyed() -> Model:
    return load_model(KEYED)


@pytest.fixture
async def app(keyed: Model, database_url: str) -> AsyncIterator[BacksmithApp]:
    started = await start_app(keyed, database_url, jwt_secret="k" * 32)
    yield started
    await stop_app(started)


@pytest.fixture
async def client(app: BacksmithApp) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as made:
        yield made


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def rows(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    listed = await client.get("/payments")
    assert listed.status_code == 200
    return list(listed.json())


async def records(app: BacksmithApp) -> list[dict[str, Any]]:
    async with app.engine.connect() as conn:
        found = await conn.execute(sa.text("SELECT * FROM backsmith_idempotency"))
        return [dict(row._mapping) for row in found]


async def test_the_same_request_again_is_answered_byte_for_byte_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post("/payments", json=PAYMENT, headers=key("pay-1"))
    again = await client.post("/payments", json=PAYMENT, headers=key('"pay-1"'))  # RFC 8941
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"] == "/payments/1"
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    # Key order and spacing do not make another request: the body's value does.
    reordered = b'{"amount_cents": 1200,   "reference": "inv-1"}'
    third = await client.post(
        "/payments", content=reordered, headers={**key("pay-1"), "content-type": "application/json"}
    )
    assert third.content == first.content
    assert len(await rows(client)) == 1
    unkeyed = await client.post("/payments", json=PAYMENT)  # no key: a new payment each time
    assert unkeyed.status_code == 201 and len(await rows(client)) == 2


async def test_the_same_key_with_another_request_is_a_422_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/payments", json=PAYMENT, headers=key("pay-2"))
    other = await client.post(
        "/payments", json={**PAYMENT, "amount_cents": 9}, headers=key("pay-2")
    )
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "BSM408"
    elsewhere = await client.post("/payments/1/capture", headers=key("pay-2"))  # another path
    assert elsewhere.status_code == 422
    assert len(await rows(client)) == 1


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ([("Idempotency-Key", "x" * 256)], "1 to 255 visible ASCII characters"),
        ([("Idempotency-Key", "")], "1 to 255 visible ASCII characters"),
        ([("Idempotency-Key", "two words")], "1 to 255 visible ASCII characters"),
        ([("Idempotency-Key", "a"), ("Idempotency-Key", "b")], "one Idempotency-Key header"),
    ],
)
async def test_a_bad_key_is_a_400(
    client: httpx.AsyncClient, headers: list[tuple[str, str]], detail: str
) -> None:
    refused = await client.post("/payments", json=PAYMENT, headers=headers)
    assert refused.status_code == 400 and detail in refused.json()["detail"]
    assert await rows(client) == []


async def test_a_required_key_missing_is_a_400_and_a_keyed_patch_is_replayed(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/payments", json=PAYMENT)
    missing = await client.patch("/payments/1", json={"amount_cents": 5})
    assert missing.status_code == 400 and "needs an Idempotency-Key" in missing.json()["detail"]
    changed = await client.patch("/payments/1", json={"amount_cents": 5}, headers=key("fix-1"))
    # Changed again in between: the replay is the first answer, and changes nothing.
    await client.patch("/payments/1", json={"amount_cents": 7}, headers=key("fix-2"))
    replayed = await client.patch("/payments/1", json={"amount_cents": 5}, headers=key("fix-1"))
    assert changed.status_code == replayed.status_code == 200
    assert replayed.content == changed.content and replayed.json()["amount_cents"] == 5
    assert (await client.get("/payments/1")).json()["amount_cents"] == 7


async def test_keys_are_each_callers_own(client: httpx.AsyncClient) -> None:
    ann, bob = bearer("k" * 32, "ann"), bearer("k" * 32, "bob")
    first = await client.post("/payments", json=PAYMENT, headers={**ann, **key("same")})
    second = await client.post("/payments", json=PAYMENT, headers={**bob, **key("same")})
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers and second.json()["id"] == 2


async def test_a_refusal_is_stored_and_replayed_but_a_request_that_fails_to_parse_is_not(
    client: httpx.AsyncClient,
) -> None:
    invalid = await client.post("/payments", json={"reference": ""}, headers=key("pay-3"))
    assert invalid.status_code == 422  # refused before the key is read: nothing is kept
    made = await client.post("/payments", json={**PAYMENT, "reference": "refuse-1"})
    declined = await client.post(f"/payments/{made.json()['id']}/capture", headers=key("cap-1"))
    again = await client.post(f"/payments/{made.json()['id']}/capture", headers=key("cap-1"))
    assert declined.status_code == again.status_code == 409
    assert again.content == declined.content and again.headers["idempotent-replayed"] == "true"
    fixed = await client.post("/payments", json=PAYMENT, headers=key("pay-3"))
    assert fixed.status_code == 201


async def test_a_failure_after_a_write_undoes_it_and_lets_the_key_go(
    client: httpx.AsyncClient, app: BacksmithApp
) -> None:
    made = (await client.post("/payments", json={**PAYMENT, "reference": "flaky"})).json()
    sys.modules["keyed.hooks"].FAIL_ONCE.add("flaky")  # imported from beside the contract
    failed = await client.post(f"/payments/{made['id']}/capture", headers=key("cap-2"))
    assert failed.status_code == 500
    assert (await client.get(f"/payments/{made['id']}")).json()["captured"] is False
    assert [r["key"] for r in await records(app)] == []  # no 500 is kept: retry may run
    retried = await client.post(f"/payments/{made['id']}/capture", headers=key("cap-2"))
    assert retried.status_code == 200 and retried.json()["captured"] is True
    assert "idempotent-replayed" not in retried.headers


async def test_a_key_in_flight_is_a_409_until_its_lease_runs_out_then_taken_over(
    client: httpx.AsyncClient, app: BacksmithApp
) -> None:
    # A first request whose process died mid-way left its claim: running, leased.
    first = await client.post("/payments", json=PAYMENT, headers=key("pay-4"))
    table = sa.table("backsmith_idempotency", sa.column("key"), sa.column("state"))
    lease = sa.table("backsmith_idempotency", sa.column("key"), sa.column("locked_until"))
    async with app.engine.begin() as conn:
        await conn.execute(sa.update(table).where(table.c.key == "pay-4").values(state="running"))
        await conn.execute(
            sa.update(lease)
            .where(lease.c.key == "pay-4")
            .values(locked_until=datetime.now(UTC) + timedelta(seconds=30))
        )
    busy = await client.post("/payments", json=PAYMENT, headers=key("pay-4"))
    assert busy.status_code == 409 and busy.headers["retry-after"] == "1"
    assert busy.json()["code"] == "BSM409"
    async with app.engine.begin() as conn:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await conn.execute(sa.update(lease).where(lease.c.key == "pay-4").values(locked_until=past))
    taken = await client.post("/payments", json=PAYMENT, headers=key("pay-4"))
    assert taken.status_code == 201 and taken.json()["id"] != first.json()["id"]
    replayed = await client.post("/payments", json=PAYMENT, headers=key("pay-4"))
    assert replayed.content == taken.content


async def test_a_key_past_its_retention_is_a_new_request(
    client: httpx.AsyncClient, app: BacksmithApp
) -> None:
    first = await client.post("/payments", json=PAYMENT, headers=key("pay-5"))
    table = sa.table("backsmith_idempotency", sa.column("key"), sa.column("created_at"))
    old = datetime.now(UTC) - timedelta(hours=25)
    async with app.engine.begin() as conn:
        await conn.execute(sa.update(table).where(table.c.key == "pay-5").values(created_at=old))
    again = await client.post("/payments", json=PAYMENT, headers=key("pay-5"))
    # A new row (on PostgreSQL the key's record refused a first try, which took an id)
    assert again.status_code == 201 and again.json()["id"] > first.json()["id"]
    assert "idempotent-replayed" not in again.headers and len(await rows(client)) == 2


async def test_concurrent_requests_with_one_key_make_one_payment(
    client: httpx.AsyncClient,
) -> None:
    answers = await asyncio.gather(
        *(client.post("/payments", json=PAYMENT, headers=key("race")) for _ in range(30))
    )
    statuses = {answer.status_code for answer in answers}
    assert statuses <= {201, 409}, [a.text for a in answers if a.status_code not in (201, 409)]
    made = [a for a in answers if a.status_code == 201]
    assert made and all(a.content == made[0].content for a in made)
    assert len(await rows(client)) == 1


async def test_the_documented_bookshop_calls_answer_as_the_docs_say(database_url: str) -> None:
    page = (ROOT / "docs" / "idempotency.md").read_text(encoding="utf-8")
    shown = page.split("## Try it on the bookshop")[1].split("```sh\n")[1].split("```")[0]
    expected = [line[2:] for line in shown.splitlines() if line.startswith("# ")]
    calls = [line for line in shown.splitlines() if "-d '" in line]
    bodies = [orjson.loads(line.split("-d '")[1].rstrip("'")) for line in calls]
    assert len(bodies) == 3
    async with served(load_model(BOOKSHOP), database_url) as client:
        headers = {"Idempotency-Key": "author-42"}
        answers = [await client.post("/authors", json=body, headers=headers) for body in bodies]
    said = []
    for answer in answers[:2]:
        said.append(f"HTTP/1.1 {answer.status_code} {answer.reason_phrase}")
        said.append(f"location: {answer.headers['location']}")
        if "idempotent-replayed" in answer.headers:
            said.append(f"idempotent-replayed: {answer.headers['idempotent-replayed']}")
    assert said == expected[:5]
    assert answers[1].content == answers[0].content
    assert answers[2].text.startswith(expected[5].removesuffix("..."))
