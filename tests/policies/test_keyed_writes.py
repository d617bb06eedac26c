"""A keyed create that is one INSERT writes its record in that INSERT (PostgreSQL), and a
replay answers the row it kept byte for byte, whatever kinds of value the row holds.

SQLite runs the claim-and-transaction path; both must answer the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from conftest import BOOKSHOP, FIXTURES, client_for, start_app, stop_app

from backsmith.api import load_model
from backsmith.policies.keyed_writes import KEPT_ROW

pytestmark = pytest.mark.anyio

KINDS = FIXTURES / "policies" / "keyed_kinds.yaml"
ORDER: dict[str, Any] = {
    "reference": "ord-1",
    "total": 12.5,
    "weight": 0.1 + 0.2,  # a double no shorter decimal names: kept to its last bit
    "due": "2026-12-24",
    "tags": ["gift", "ünïcode"],
    "extra": {"z": 1, "a": [1.25, None, {"n": "x"}], "m": "\u00e9"},
    "note": None,
}


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


@asynccontextmanager
async def served(
    database_url: str, contract: Any = KINDS
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    app = await start_app(load_model(contract), database_url)
    try:
        async with client_for(app) as client:
            yield client, app
    finally:
        await stop_app(app)


async def heads(app: Any) -> list[str]:
    async with app.engine.connect() as conn:
        found = await conn.execute(sa.text("SELECT head FROM backsmith_idempotency ORDER BY key"))
        return [row[0] for row in found]


async def test_a_replay_answers_the_kept_row_byte_for_byte(database_url: str) -> None:
    async with served(database_url) as (client, app):
        first = await client.post("/orders", json=ORDER, headers=key("o-1"))
        again = await client.post("/orders", json=ORDER, headers=key("o-1"))
        other = await client.post("/orders", json={**ORDER, "total": 1}, headers=key("o-1"))
        read = await client.get(first.headers["location"])
        kept = await heads(app)
    assert first.status_code == again.status_code == 201, first.text
    assert again.content == first.content and "idempotent-replayed" not in first.headers
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422  # the key sent again with another body
    assert read.json() == first.json() and first.json()["weight"] == 0.1 + 0.2
    if database_url.startswith("postgresql"):
        assert kept == [KEPT_ROW]  # the record keeps the row its INSERT wrote
    else:
        assert len(kept) == 1 and kept[0] != KEPT_ROW


async def test_racing_requests_with_one_key_make_one_row_and_one_answer(
    database_url: str,
) -> None:
    async with served(database_url) as (client, app):
        answers = await asyncio.gather(
            *(client.post("/orders", json=ORDER, headers=key("race")) for _ in range(20))
        )
        made = {a.content for a in answers if a.status_code == 201}
        statuses = {a.status_code for a in answers}
        assert statuses <= {201, 409}, [a.text for a in answers if a.status_code != 201]
        assert len(made) == 1
        listed = await client.post("/orders", json={**ORDER, "reference": "b"}, headers=key("b"))
        assert listed.status_code == 201
        assert len(await heads(app)) == 2
        async with app.engine.connect() as conn:  # the race made one row, not twenty
            assert (await conn.execute(sa.text("SELECT count(*) FROM orders"))).scalar() == 2


async def test_a_refusal_of_a_create_of_one_insert_is_kept_and_answered_again(
    database_url: str,
) -> None:
    customer = {"email": "ann@example.com", "name": "Ann"}
    async with served(database_url, BOOKSHOP) as (client, _):
        made = await client.post("/customers", json=customer, headers=key("c-1"))
        clash = await client.post("/customers", json=customer, headers=key("c-2"))
        # The email is free again; the key's refusal is answered all the same.
        assert (await client.delete(made.headers["location"])).status_code == 204
        clash_again = await client.post("/customers", json=customer, headers=key("c-2"))
        made_again = await client.post("/customers", json=customer, headers=key("c-1"))
        listed = (await client.get("/customers")).json()["items"]
    assert made.status_code == 201 and clash.status_code == 409
    assert clash_again.status_code == 409 and clash_again.content == clash.content
    assert clash_again.headers["idempotent-replayed"] == "true"
    assert made_again.status_code == 201 and made_again.content == made.content
    assert listed == []  # neither answer again wrote a row


SECRETS = """
openapi: 3.1.0
info: {title: Keyed members with a writeOnly value, version: 1.0.0}
paths:
  /members:
    post:
      operationId: createMember
      x-backsmith: {public: true}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Member"}
      responses:
        "201":
          description: Made
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Member"}
components:
  schemas:
    Member:
      type: object
      required: [name, pin]
      properties:
        id: {type: string, format: uuid, readOnly: true}
        name: {type: string, maxLength: 100}
        pin: {type: string, maxLength: 100, writeOnly: true}
"""


async def test_a_record_keeps_no_write_only_value(database_url: str, tmp_path: Any) -> None:
    contract = tmp_path / "members.yaml"
    contract.write_text(SECRETS)
    member = {"name": "Ged", "pin": "sparrowhawk-4711"}
    async with served(database_url, contract) as (client, app):
        first = await client.post("/members", json=member, headers=key("m-1"))
        again = await client.post("/members", json=member, headers=key("m-1"))
        async with app.engine.connect() as conn:
            record = (
                await conn.execute(sa.text("SELECT head, body FROM backsmith_idempotency"))
            ).one()
            stored = (await conn.execute(sa.text("SELECT pin FROM members"))).scalar()
    assert first.status_code == again.status_code == 201, first.text
    assert again.content == first.content and "pin" not in first.json()
    assert stored == "sparrowhawk-4711"  # the row has it; the record of the request does not
    assert b"sparrowhawk" not in bytes(record.body)
    if database_url.startswith("postgresql"):
        assert record.head == KEPT_ROW and b'"name" : "Ged"' in bytes(record.body)
