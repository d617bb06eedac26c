"""Events written with their change and delivered to a webhook receiver on loopback
(tests/fixtures/events/parcels.yaml), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import PARCELS, client_for, created, start_app, stop_app, write_file
from webhook_receiver import SECRET, Receiver

from backsmith.api import load_model
from backsmith.http.app import BacksmithApp
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio
CONTRACT = PARCELS


@asynccontextmanager
async def serving(model: Model, database_url: str, **settings: Any) -> AsyncIterator[Any]:
    settings.setdefault("webhook_secret", SECRET)
    settings.setdefault("event_backoff_ms", 50)
    app = await start_app(model, database_url, **settings)
    try:
        async with client_for(app) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client
    finally:
        await stop_app(app)


async def outbox(app: BacksmithApp) -> list[dict[str, Any]]:
    """Every event row, in the order written: those still to deliver, in the outbox, and
    those the relay is done with, in the event log (whose seqs SQLite may give again)."""
    both = "SELECT * FROM backsmith_outbox UNION ALL SELECT * FROM backsmith_event_log"
    async with app.engine.connect() as conn:
        ordered = f"SELECT * FROM ({both}) AS events ORDER BY occurred_at, seq"
        rows = await conn.execute(sa.text(ordered))
        return [dict(row._mapping) for row in rows]


async def settled(app: BacksmithApp, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The outbox once no row is pending: a receiver has an event a moment before the
    relay records it delivered."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = await outbox(app)
        if all(row["status"] != "pending" for row in rows):
            return rows
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still pending: {rows}")
        await asyncio.sleep(0.02)


async def test_a_create_reaches_the_webhook_signed(
    parcels: Model, database_url: str, receiver: Receiver
) -> None:
    async with serving(parcels, database_url, webhooks=[receiver.url]) as client:
        parcel = await created(client, "/parcels", {"recipient": "Ada", "secret_note": "x"})
        [taken] = await receiver.wait_for(1)
        assert taken["valid"], taken["headers"]
        body = taken["body"]
        assert body["type"] == "parcel.created"
        assert body["data"]["id"] == parcel["id"] and body["data"]["recipient"] == "Ada"
        assert "secret_note" not in body["data"]  # writeOnly: never in an event
        assert body["key"] == str(parcel["id"]) and body["operation"] == "createParcel"
        assert taken["id"] == body["id"]  # webhook-id is the event id
        [row] = await settled(client.app)
        assert row["event_id"] == body["id"] and row["status"] == "delivered"


async def test_webhooks_get_the_types_their_section_names(
    parcels: Model, database_url: str, receiver: Receiver
) -> None:
    async with serving(parcels, database_url, webhooks=[receiver.url]) as client:
        parcel = await created(client, "/parcels", {"recipient": "Ada"})
        path = f"/parcels/{parcel['id']}"
        assert (await client.patch(path, json={"recipient": "Bea"})).status_code == 200
        assert (await client.post(f"{path}/ship")).status_code == 200
        attempt = await client.post(f"{path}/attempts", json={"note": "nobody home"})
        assert attempt.status_code == 200, attempt.text
        await receiver.wait_for(3)
        await asyncio.sleep(0.3)
        # parcel.updated is no webhook of the contract's: not sent, not even written
        assert receiver.types() == ["parcel.created", "parcel.shipped", "parcel.attempted"]
        assert receiver.received[2]["body"]["data"] == {
            "parcel": parcel["id"],
            "note": "nobody home",
        }
        assert len(await outbox(client.app)) == 3


async def test_a_failed_handler_leaves_no_event(
    parcels: Model, database_url: str, receiver: Receiver
) -> None:
    async with serving(parcels, database_url, webhooks=[receiver.url]) as client:
        parcel = await created(client, "/parcels", {"recipient": "Ada"})
        await receiver.wait_for(1)
        lost = await client.post(f"/parcels/{parcel['id']}/lose")
        assert lost.status_code == 500
        assert [row["type"] for row in await outbox(client.app)] == ["parcel.created"]
        assert (await client.get(f"/parcels/{parcel['id']}")).json()["status"] == "created"


async def test_a_receiver_down_for_a_while_gets_the_event_after_retries(
    parcels: Model, database_url: str, receiver: Receiver
) -> None:
    receiver.status = 503
    async with serving(parcels, database_url, webhooks=[receiver.url]) as client:
        await created(client, "/parcels", {"recipient": "Ada"})
        while len(receiver.attempts) < 4:
            await asyncio.sleep(0.02)
        receiver.status = 200
        [taken] = await receiver.wait_for(1)
        gaps = [b - a for a, b in zip(receiver.attempts, receiver.attempts[1:], strict=False)]
        assert gaps[2] > gaps[0], gaps  # backing off: waits double (less up to half, jitter)
        [row] = await settled(client.app)
        assert row["status"] == "delivered" and row["attempts"] >= 4
        assert taken["valid"]


async def test_an_event_always_refused_is_dead_lettered(
    parcels: Model, database_url: str, receiver: Receiver
) -> None:
    receiver.status = 500
    settings = {"webhooks": [receiver.url], "event_attempts": 3, "event_backoff_ms": 10}
    async with serving(parcels, database_url, **settings) as client:
        await created(client, "/parcels", {"recipient": "Ada"})
        for _ in range(200):
            [row] = await outbox(client.app)
            if row["status"] == "dead":
                break
            await asyncio.sleep(0.02)
        assert row["status"] == "dead" and row["attempts"] == 3
        assert row["last_error"] == "answered 500"
        await asyncio.sleep(0.2)
        assert len(receiver.attempts) == 3  # dead: tried no more


async def test_events_reach_each_target_in_order_per_parcel(
    parcels: Model, database_url: str, receiver: Receiver
) -> None:
    receiver.status = 503  # the first attempts fail: later events must wait their turn
    async with serving(parcels, database_url, webhooks=[receiver.url]) as client:
        ids = [(await created(client, "/parcels", {"recipient": f"R{i}"}))["id"] for i in range(3)]
        for parcel in ids:
            assert (await client.post(f"/parcels/{parcel}/ship")).status_code == 200
        await asyncio.sleep(0.2)
        receiver.status = 200
        await receiver.wait_for(6)
        for parcel in ids:
            seen = [
                e["body"]["type"] for e in receiver.received if e["body"]["data"]["id"] == parcel
            ]
            assert seen == ["parcel.created", "parcel.shipped"]


async def test_the_docs_receiver_check_verifies_real_deliveries(
    parcels: Model, database_url: str, receiver: Receiver
) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "events.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", doc, re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    verify = namespace["verify"]
    async with serving(parcels, database_url, webhooks=[receiver.url]) as client:
        await created(client, "/parcels", {"recipient": "Ada"})
        [taken] = await receiver.wait_for(1)
    body = taken["raw"]
    headers = taken["headers"]
    assert verify(SECRET, headers, body)
    assert not verify(SECRET, headers, body.replace(b"Ada", b"Eve"))  # tampered
    wrong = "whsec_" + base64.b64encode(b"another-secret-of-thirty-two-byt").decode()
    assert not verify(wrong, headers, body)


async def test_hooks_emit_in_the_write_and_a_refusal_leaves_no_event(
    parcels: Model, database_url: str
) -> None:
    # A broker takes every type; the relay is off, so the outbox shows what was written.
    settings = {"events_url": "nats://127.0.0.1:4222", "relay": False}
    async with serving(parcels, database_url, **settings) as client:
        parcel = await created(client, "/parcels", {"recipient": "Ada"})
        refused = await client.post("/parcels", json={"recipient": "nobody"})
        assert refused.status_code == 422 and refused.json()["title"] == "No recipient"
        rows = await outbox(client.app)
    assert [(row["type"], row["resource_key"]) for row in rows] == [
        ("parcel.created", str(parcel["id"])),
        ("parcel.announced", str(parcel["id"])),
    ]
    assert json.loads(rows[1]["data"]) == {"to": "Ada"}
    assert rows[0]["event_id"] != rows[1]["event_id"]


async def test_a_write_that_leaves_the_state_alone_is_an_update_not_a_move(
    parcels: Model, database_url: str, tmp_path: Path
) -> None:
    # Not audited, so a PATCH that does not name the state never reads the row first.
    text = PARCELS.read_text().replace("        audit: true\n", "")
    unaudited = load_model(write_file(tmp_path, "parcels.yaml", text))
    settings = {"events_url": "nats://127.0.0.1:4222", "relay": False}
    async with serving(unaudited, database_url, **settings) as client:
        parcel = await created(client, "/parcels", {"recipient": "Ada"})
        path = f"/parcels/{parcel['id']}"
        assert (await client.post(f"{path}/ship")).status_code == 200
        renamed = await client.patch(path, json={"recipient": "Bea"})
        assert renamed.status_code == 200
        delivered = await client.patch(path, json={"recipient": "Bea", "status": "delivered"})
        assert delivered.status_code == 200
        rows = await outbox(client.app)
    assert [row["type"] for row in rows] == [
        "parcel.created",
        "parcel.announced",
        "parcel.shipped",
        "parcel.updated",  # still shipped: an update, never a second parcel.shipped
        "parcel.delivered",
    ]
