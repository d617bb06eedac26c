"""The relay as a process of its own: killed mid-delivery, two at once, run by
`backsmith relay`; and `backsmith events` reading and mending the outbox."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import FIXTURES, PARCELS, client_for, created, start_app, stop_app
from test_webhooks import outbox, settled
from webhook_receiver import SECRET, Receiver

from backsmith.cli.main import main
from backsmith.events import relay as relay_module
from backsmith.events.recorder import EVENT_LOG_ROWS, OUTBOX_ROWS
from backsmith.events.relay import Policy, Relay
from backsmith.events.webhooks import WebhookSender
from backsmith.model.types import Model
from backsmith.storage.database import Database
from backsmith.storage.engine import dialect_for

pytestmark = pytest.mark.anyio
CONTRACT = PARCELS


def relay_on(database_url: str, receiver: Receiver, **policy: Any) -> tuple[Relay, Database]:
    database = Database.for_url(database_url, dialect_for(database_url))
    sender = WebhookSender(receiver.url, SECRET, timeout=5)
    return Relay(database, [sender], Policy(**{"backoff": 0.05, **policy})), database


async def write_events(model: Model, database_url: str, receiver: Receiver, count: int) -> Any:
    """An app that writes `count` parcels' events and delivers none (its relay is off)."""
    app = await start_app(model, database_url, webhooks=[receiver.url], relay=False)
    async with client_for(app) as client:
        for i in range(count):
            await created(client, "/parcels", {"recipient": f"R{i}"})
    return app


async def test_a_relay_killed_mid_delivery_delivers_again_with_the_same_id(
    parcels: Model, database_url: str, receiver: Receiver
) -> None:
    app = await write_events(parcels, database_url, receiver, 1)
    try:
        receiver.delay = 30  # the first delivery hangs: the relay dies waiting
        first, database = relay_on(database_url, receiver, lease=1.0)
        task = asyncio.create_task(first.run_once())
        await receiver.wait_for(1)
        task.cancel()  # killed: its claim's lease is left to run out
        await asyncio.gather(task, return_exceptions=True)
        await first.close()
        await database.close()
        receiver.delay = 0
        second, database = relay_on(database_url, receiver, lease=1.0)
        assert await second.run_once() == 0  # still leased to the relay that died
        await asyncio.sleep(1.1)
        assert await second.run_once() == 1
        [row] = await outbox(app)
        assert row["status"] == "delivered"
        one, two = receiver.received
        assert one["id"] == two["id"] == row["event_id"]  # a duplicate, de-duplicable by id
        await second.close()
        await database.close()
    finally:
        await stop_app(app)


@pytest.mark.postgres
async def test_two_relays_on_one_postgresql_deliver_each_event_once(
    parcels: Model, pg_url: str, receiver: Receiver
) -> None:
    app = await write_events(parcels, pg_url, receiver, 40)
    receiver.delay = 0.01
    try:
        relays = [relay_on(pg_url, receiver, batch=5) for _ in range(2)]

        async def drain(relay: Relay) -> int:
            total = 0
            while done := await relay.run_once():
                total += done
            return total

        counts = await asyncio.gather(*(drain(relay) for relay, _ in relays))
        ids = [item["id"] for item in receiver.received]
        assert len(ids) == len(set(ids)) == 40
        assert sum(counts) == 40 and all(counts), counts  # both took a share
        for relay, database in relays:
            await relay.close()
            await database.close()
    finally:
        await stop_app(app)


async def relay_delivers(
    app: Any, database_url: str, receiver: Receiver, count: int, **env: str
) -> str:
    """`backsmith relay` on `database_url` until the `count` events `app` wrote are
    delivered, then stopped with SIGTERM; what it said on standard error."""
    environment = {
        **os.environ,
        "BACKSMITH_WEBHOOKS": receiver.url,
        "BACKSMITH_WEBHOOK_SECRET": SECRET,
        **env,
    }
    command = [sys.executable, "-m", "backsmith", "relay", str(CONTRACT)]
    process = await asyncio.create_subprocess_exec(
        *command,
        "--database",
        database_url,
        env=environment,
        cwd=CONTRACT.parent,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        taken = await receiver.wait_for(count, timeout=20)
        assert all(item["valid"] for item in taken)
        assert {row["status"] for row in await settled(app)} == {"delivered"}
    finally:
        process.send_signal(signal.SIGTERM)  # stops between passes, its senders closed
        _, errors = await asyncio.wait_for(process.communicate(), 15)
        await stop_app(app)
    assert process.returncode == 0, errors.decode()
    return errors.decode()


async def test_backsmith_relay_delivers_what_serve_wrote(
    parcels: Model, database_url: str, receiver: Receiver
) -> None:
    app = await write_events(parcels, database_url, receiver, 2)
    said = await relay_delivers(app, database_url, receiver, 2)
    assert "event relay delivering to http://127.0.0.1" in said


@pytest.mark.postgres
async def test_backsmith_relay_behind_pgbouncer_keeps_no_prepared_statement(
    parcels: Model, pg_database: str, pgbouncer: Any, receiver: Receiver
) -> None:
    """Through transaction pooling each transaction may meet another server connection:
    `backsmith relay` honours BACKSMITH_PGBOUNCER, as `serve` does."""
    app = await write_events(parcels, pg_database, receiver, 6)
    through = pgbouncer.url(pg_database)
    said = await relay_delivers(app, through, receiver, 6, BACKSMITH_PGBOUNCER="true")
    assert "prepared statement" not in said


async def test_events_list_retry_and_replay(
    parcels: Model,
    database_url: str,
    receiver: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = await write_events(parcels, database_url, receiver, 2)
    try:
        receiver.status = 500
        relay, database = relay_on(database_url, receiver, attempts=1)
        assert await relay.run_once() == 2
        flags = [str(CONTRACT), "--database", database_url]
        assert await asyncio.to_thread(main, ["events", "list", "--status", "dead", *flags]) == 0
        listed = capsys.readouterr().out.splitlines()
        assert len(listed) == 2 and all("parcel.created" in line for line in listed)
        assert all("dead after 1  answered 500" in line for line in listed), listed
        dead = [row["event_id"] for row in await outbox(app)]
        assert await asyncio.to_thread(main, ["events", "retry", dead[0], *flags]) == 0
        assert capsys.readouterr().out.strip() == "1 delivery pending again"
        receiver.status = 200
        assert await relay.run_once() == 1
        assert [item["id"] for item in receiver.received] == [dead[0]]
        assert await asyncio.to_thread(main, ["events", "replay", dead[0], *flags]) == 0
        assert await relay.run_once() == 1
        assert [item["id"] for item in receiver.received] == [dead[0], dead[0]]
        assert await asyncio.to_thread(main, ["events", "retry", *flags]) == 0
        assert capsys.readouterr().out.strip().endswith("1 delivery pending again")
        await relay.close()
        await database.close()
    finally:
        await stop_app(app)


def test_events_on_a_contract_with_no_outbox_say_so(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    bookshop = FIXTURES.parent.parent / "examples" / "bookshop" / "api-spec.md"
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["events", "list", str(bookshop), "--database", url]) == 1
    assert "has no backsmith_outbox table" in capsys.readouterr().out


def test_webhooks_named_for_a_contract_that_publishes_nothing_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stockroom = FIXTURES / "handlers" / "stockroom.yaml"
    monkeypatch.setenv("BACKSMITH_WEBHOOKS", "http://127.0.0.1:9/hooks")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["relay", str(stockroom), "--database", url]) == 2
    error = capsys.readouterr().err
    assert "BACKSMITH_WEBHOOKS: webhooks is set but the contract publishes no events" in error


def test_a_target_named_twice_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Brokers' URLs are told apart with their passwords masked: these two are one target.
    monkeypatch.setenv("BACKSMITH_EVENTS_URL", "nats://a:one@127.0.0.1:9,nats://a:two@127.0.0.1:9")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["relay", str(CONTRACT), "--database", url]) == 2
    error = capsys.readouterr().err
    assert "BACKSMITH_EVENTS_URL: nats://a:***@127.0.0.1:9 is named twice" in error, error


def test_production_refuses_webhooks_with_no_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKSMITH_WEBHOOKS", "http://127.0.0.1:9/hooks")
    monkeypatch.setenv("BACKSMITH_ENV", "production")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["relay", str(CONTRACT), "--database", url]) == 2
    assert "BACKSMITH_WEBHOOK_SECRET: webhook_secret must be set" in capsys.readouterr().err


async def test_delivered_events_past_their_retention_are_swept_and_dead_ones_kept(
    parcels: Model, database_url: str, receiver: Receiver
) -> None:
    app = await write_events(parcels, database_url, receiver, 3)
    try:
        relay, database = relay_on(database_url, receiver, attempts=1, retention=3600.0)
        assert await relay.run_once() == 3
        async with app.engine.begin() as conn:  # two delivered long ago, one dead long ago
            old = datetime.now(UTC) - timedelta(days=2)
            rows = await outbox(app)
            for row in rows[:2]:
                await conn.execute(
                    EVENT_LOG_ROWS.update()
                    .where(EVENT_LOG_ROWS.c.seq == row["seq"])
                    .values(delivered_at=old)
                )
            await conn.execute(
                EVENT_LOG_ROWS.update()
                .where(EVENT_LOG_ROWS.c.seq == rows[2]["seq"])
                .values(status="dead", delivered_at=None, occurred_at=old)
            )
        assert await relay.sweep(batch=1) == 2  # a batch at a time until none is left
        assert [row["status"] for row in await outbox(app)] == ["dead"]
        await relay.close()
        await database.close()
    finally:
        await stop_app(app)


async def test_an_instance_held_up_by_a_retry_holds_up_only_its_own_later_events(
    parcels: Model, database_url: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay_module, "SCAN_PAGE", 2)  # the outbox read a page at a time
    app = await start_app(parcels, database_url, webhooks=[receiver.url], relay=False)
    try:
        async with client_for(app) as client:
            held = (await created(client, "/parcels", {"recipient": "Held"}))["id"]
            assert (await client.post(f"/parcels/{held}/ship")).status_code == 200
            for name in ("B", "C"):
                await created(client, "/parcels", {"recipient": name})
        first = (await outbox(app))[0]
        later = datetime.now(UTC) + timedelta(hours=1)  # its retry is an hour away
        async with app.engine.begin() as conn:
            await conn.execute(
                OUTBOX_ROWS.update()
                .where(OUTBOX_ROWS.c.seq == first["seq"])
                .values(attempts=1, next_attempt_at=later)
            )
        relay, database = relay_on(database_url, receiver)
        assert await relay.run_once() == 2  # B's and C's; the held parcel's shipment waits
        assert [item["body"]["data"]["recipient"] for item in receiver.received] == ["B", "C"]
        async with app.engine.begin() as conn:
            await conn.execute(OUTBOX_ROWS.update().values(next_attempt_at=datetime.now(UTC)))
        assert await relay.run_once() == 1
        assert await relay.run_once() == 1
        assert await relay.run_once() == 0
        assert receiver.types()[2:] == ["parcel.created", "parcel.shipped"]
        await relay.close()
        await database.close()
    finally:
        await stop_app(app)


async def test_the_outbox_keeps_only_the_backlog_and_rows_left_by_an_older_release_move(
    parcels: Model, database_url: str, receiver: Receiver
) -> None:
    app = await write_events(parcels, database_url, receiver, 3)
    try:
        relay, database = relay_on(database_url, receiver, batch=2)
        assert await relay.run_once() == 2

        async def counted() -> tuple[int, int]:
            async with app.engine.connect() as conn:
                both = [OUTBOX_ROWS, EVENT_LOG_ROWS]
                found = [await conn.scalar(sa.select(sa.func.count()).select_from(t)) for t in both]
                return found[0], found[1]

        assert await counted() == (1, 2)  # delivered rows left with their delivery
        assert await relay.run_once() == 1
        assert await counted() == (0, 3)
        # An older release kept delivered rows in the outbox: the next sweep moves them.
        async with app.engine.begin() as conn:
            moved = EVENT_LOG_ROWS.select().where(EVENT_LOG_ROWS.c.seq < 3)
            columns = [c.name for c in EVENT_LOG_ROWS.c]
            await conn.execute(OUTBOX_ROWS.insert().from_select(columns, moved))
            await conn.execute(EVENT_LOG_ROWS.delete().where(EVENT_LOG_ROWS.c.seq < 3))
        assert await counted() == (2, 1)
        assert await relay.run_once() == 0  # delivered: not delivered again
        assert await relay.sweep() == 0  # within retention: moved, not deleted
        assert await counted() == (0, 3)
        statuses = {row["status"] for row in await outbox(app)}
        assert statuses == {"delivered"} and len(receiver.received) == 3
        await relay.close()
        await database.close()
    finally:
        await stop_app(app)


async def test_a_target_whose_events_wait_for_retries_never_hides_another_targets(
    parcels: Model, database_url: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The relay reads one pending row per target and pass: were the read shared by both
    # targets, the first target's waiting event (written first) would be all it saw.
    monkeypatch.setattr(relay_module, "SCAN_PAGE", 1)
    monkeypatch.setattr(relay_module, "SCAN_PAGES", 1)
    down = Receiver()
    await down.start()
    app = await start_app(parcels, database_url, webhooks=[down.url, receiver.url], relay=False)
    try:
        async with client_for(app) as client:
            for i in range(3):
                await created(client, "/parcels", {"recipient": f"R{i}"})
        later = datetime.now(UTC) + timedelta(hours=1)
        async with app.engine.begin() as conn:  # every event to `down` waits for a retry
            await conn.execute(
                OUTBOX_ROWS.update()
                .where(OUTBOX_ROWS.c.target == down.url)
                .values(attempts=1, next_attempt_at=later)
            )
        database = Database.for_url(database_url, dialect_for(database_url))
        senders = [WebhookSender(url, SECRET, timeout=5) for url in (down.url, receiver.url)]
        relay = Relay(database, senders, Policy(batch=1))
        assert [await relay.run_once() for _ in range(4)] == [1, 1, 1, 0]
        assert [item["body"]["data"]["recipient"] for item in receiver.received] == [
            "R0",
            "R1",
            "R2",
        ]
        assert down.received == []
        await relay.close()
        await database.close()
    finally:
        await stop_app(app)
        await down.stop()


async def test_events_written_after_the_outbox_emptied_are_logged_and_go_back_when_retried(
    parcels: Model, database_url: str, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    # SQLite gives a row of an emptied outbox the seq the first row had: the event log
    # knows its rows by event and target, not by seq.
    app = await start_app(parcels, database_url, webhooks=[receiver.url], relay=False)
    try:
        relay, database = relay_on(database_url, receiver)
        async with client_for(app) as client:
            for name in ("first", "second"):
                await created(client, "/parcels", {"recipient": name})
                assert await relay.run_once() == 1
        rows = await outbox(app)
        assert [row["status"] for row in rows] == ["delivered", "delivered"]
        flags = [str(CONTRACT), "--database", database_url]
        ids = [row["event_id"] for row in rows]
        assert await asyncio.to_thread(main, ["events", "replay", *ids, *flags]) == 0
        assert capsys.readouterr().out.strip().endswith("2 deliveries pending again")
        assert await relay.run_once() == 2
        assert [item["id"] for item in receiver.received] == [*ids, *ids]  # in their order
        await relay.close()
        await database.close()
    finally:
        await stop_app(app)
