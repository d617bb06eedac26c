"""Events published to real brokers on loopback and read back by a consumer of each.

RabbitMQ runs at 127.0.0.1:5672 (guest/guest) and NATS with JetStream at 127.0.0.1:4222.
Each test uses an exchange, or a subject prefix and a stream, of its own, and deletes
them. Without a server the tests that need it are skipped, except in CI (CI=true), where
a missing server is a failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import aio_pika
import anyio
import nats
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from conftest import client_for, created, start_app, stop_app
from nats.aio.client import Client as NatsClient
from nats.js.api import StreamConfig
from test_webhooks import outbox

from backsmith.events.brokers import TIMEOUT, broker_publisher
from backsmith.events.message import DeliveryFailed, Message
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio
RABBITMQ = os.environ.get("BACKSMITH_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672/")
NATS = os.environ.get("BACKSMITH_TEST_NATS", "nats://127.0.0.1:4222")
PAID = Message("evt-paid-1", "order.paid", b'{"id":"evt-paid-1","data":{"n":1}}', 1_700_000_000)
SHIPPED = Message("evt-shipped-2", "order.shipped", b'{"id":"evt-shipped-2"}', 1_700_000_060)


def _missing(server: str, error: BaseException) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{server} is required in CI: {error!r}")
    pytest.skip(f"{server} not available: {error!r}")


@pytest.fixture
async def rabbitmq() -> AsyncIterator[AbstractChannel]:
    """A channel of a consumer's own connection to the test RabbitMQ."""
    try:
        connection = await aio_pika.connect(RABBITMQ, timeout=5)
    except Exception as error:
        _missing(f"RabbitMQ at {RABBITMQ}", error)
    async with connection:
        yield await connection.channel()


@pytest.fixture
async def jetstream() -> AsyncIterator[NatsClient]:
    """A consumer's own connection to the test NATS server (JetStream enabled)."""

    errors: list[Exception] = []  # nats-py reports why through its callback alone

    async def remember(error: Exception) -> None:
        errors.append(error)

    try:
        # Without a limit on attempts, nats-py retries an unreachable server for minutes.
        client = await nats.connect(
            NATS,
            connect_timeout=5,
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=1,
            error_cb=remember,
        )
        await client.jetstream().account_info()
    except Exception as error:
        _missing(f"NATS with JetStream at {NATS}", errors[-1] if errors else error)
    yield client
    await client.close()


async def _take(queue: AbstractQueue, count: int) -> list[AbstractIncomingMessage]:
    """The next `count` messages on `queue`, acknowledged; at most five seconds' wait."""
    taken: list[AbstractIncomingMessage] = []
    with anyio.fail_after(5):
        async with queue.iterator() as messages:
            async for message in messages:
                await message.ack()
                taken.append(message)
                if len(taken) == count:
                    break
    return taken


async def test_rabbitmq_routes_events_by_type_with_their_ids(rabbitmq: AbstractChannel) -> None:
    name = f"backsmith.test.{secrets.token_hex(4)}"
    publisher = broker_publisher(f"{RABBITMQ}?exchange={name}")
    assert publisher.name == f"amqp://guest:***@127.0.0.1:5672/?exchange={name}"
    try:
        # The first publish declares the exchange; no queue is bound yet, and it is still taken.
        await publisher.publish(Message("evt-0", "order.created", b"{}", 1_700_000_000))
        # Declaring it again with the same kind and durability is what shows them.
        exchange = await rabbitmq.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await rabbitmq.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key="order.*")
        await publisher.publish(PAID)
        await publisher.publish(SHIPPED)
        first, second = await _take(queue, 2)
        for received, sent in ((first, PAID), (second, SHIPPED)):
            assert received.message_id == sent.id
            assert received.routing_key == sent.type and received.type == sent.type
            assert received.body == sent.body
            assert received.content_type == "application/json"
            assert received.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
            assert received.timestamp is not None
            assert received.timestamp.timestamp() == sent.timestamp
    finally:
        await publisher.close()
        await rabbitmq.exchange_delete(name)


async def test_rabbitmq_publisher_reconnects_after_a_failure(rabbitmq: AbstractChannel) -> None:
    name = f"backsmith.test.{secrets.token_hex(4)}"
    publisher = broker_publisher(f"{RABBITMQ}?exchange={name}")
    try:
        await publisher.publish(PAID)
        await rabbitmq.exchange_delete(name)  # the broker now closes the publisher's channel
        with pytest.raises(DeliveryFailed, match="NOT_FOUND"):
            await publisher.publish(SHIPPED)
        await publisher.publish(SHIPPED)  # connects anew and declares the exchange again
        await rabbitmq.declare_exchange(name, passive=True)
    finally:
        await publisher.close()
        await rabbitmq.exchange_delete(name)


def _nats_target() -> tuple[str, str, str]:
    """A subject prefix and stream name of one test's own, and the URL naming them."""
    token = secrets.token_hex(4)
    prefix, stream = f"backsmith.test.{token}", f"BACKSMITH_TEST_{token.upper()}"
    return prefix, stream, f"{NATS}?subject={prefix}&stream={stream}"


async def test_jetstream_stores_events_by_type_with_their_ids(jetstream: NatsClient) -> None:
    prefix, stream, url = _nats_target()
    publisher = broker_publisher(url)
    assert publisher.name == url
    js = jetstream.jetstream()
    try:
        await publisher.publish(PAID)  # the first publish creates the stream
        await publisher.publish(SHIPPED)
        info = await js.stream_info(stream)
        assert info.config.subjects == [f"{prefix}.>"] and info.state.messages == 2
        subscription = await js.subscribe(f"{prefix}.>", stream=stream)
        for sent in (PAID, SHIPPED):
            received = await subscription.next_msg(timeout=5)
            assert received.subject == f"{prefix}.{sent.type}"
            assert received.headers is not None
            assert received.headers["Nats-Msg-Id"] == sent.id
            assert received.data == sent.body
        await subscription.unsubscribe()
    finally:
        await publisher.close()
        await js.delete_stream(stream)


async def test_jetstream_drops_a_second_copy_of_an_event(jetstream: NatsClient) -> None:
    prefix, stream, url = _nats_target()
    publisher = broker_publisher(url)
    js = jetstream.jetstream()
    try:
        await publisher.publish(PAID)
        await publisher.publish(PAID)  # a redelivery after a lost acknowledgement
        await publisher.publish(Message(PAID.id, PAID.type, b"{}", PAID.timestamp))
        assert (await js.stream_info(stream)).state.messages == 1
        stored = await js.get_last_msg(stream, f"{prefix}.{PAID.type}")
        assert stored.data == PAID.body
    finally:
        await publisher.close()
        await js.delete_stream(stream)


async def test_jetstream_keeps_a_stream_that_exists(jetstream: NatsClient) -> None:
    prefix, stream, url = _nats_target()
    js = jetstream.jetstream()
    await js.add_stream(
        StreamConfig(name=stream, subjects=[f"{prefix}.order.*"], description="kept", max_msgs=5)
    )
    publisher = broker_publisher(url)
    try:
        await publisher.publish(PAID)
        info = await js.stream_info(stream)
        assert info.config.subjects == [f"{prefix}.order.*"]
        assert info.config.description == "kept" and info.config.max_msgs == 5
        assert info.state.messages == 1
    finally:
        await publisher.close()
        await js.delete_stream(stream)


async def test_jetstream_publisher_reconnects_after_a_failure(jetstream: NatsClient) -> None:
    _, stream, url = _nats_target()
    js = jetstream.jetstream()
    publisher = broker_publisher(url)
    try:
        await publisher.publish(PAID)
        await js.delete_stream(stream)  # no stream takes the subject now
        with pytest.raises(DeliveryFailed, match="not taken"):
            await publisher.publish(SHIPPED)
        await publisher.publish(SHIPPED)  # connects anew and creates the stream again
        assert (await js.stream_info(stream)).state.messages == 1
    finally:
        await publisher.close()
        await js.delete_stream(stream)


@pytest.mark.parametrize("url", ["amqp://guest:guest@127.0.0.1:1/", "nats://127.0.0.1:1"])
async def test_an_unreachable_broker_is_a_delivery_failure(url: str) -> None:
    publisher = broker_publisher(url)
    for _ in range(2):  # and again: a failed connection leaves nothing stuck
        started = time.monotonic()
        with pytest.raises(DeliveryFailed, match=r"^cannot connect: ") as failure:
            await publisher.publish(PAID)
        assert time.monotonic() - started < TIMEOUT
        assert "\n" not in str(failure.value) and "guest:guest" not in str(failure.value)
    await publisher.close()


@pytest.mark.parametrize("scheme", ["amqp://guest:guest@", "nats://"])
async def test_a_broker_that_never_answers_fails_within_the_timeout(scheme: str) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # takes the connection and says nothing
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    publisher = broker_publisher(f"{scheme}127.0.0.1:{port}/", timeout=0.5)
    try:
        with anyio.fail_after(5), pytest.raises(DeliveryFailed, match=r"within 0\.5 s"):
            await publisher.publish(PAID)
    finally:
        await publisher.close()
        server.close()


def test_an_unknown_scheme_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=re.escape("redis://app:***@127.0.0.1/0")) as refusal:
        broker_publisher("redis://app:secret@127.0.0.1/0")
    assert "secret" not in str(refusal.value)
    for scheme in ("amqp://", "amqps://", "nats://", "tls://"):
        assert scheme in str(refusal.value)


# ------------------------------------------------ end to end: a write, the relay, a consumer
async def test_a_write_reaches_a_rabbitmq_consumer_through_the_relay(
    rabbitmq: AbstractChannel, parcels: Model, database_url: str
) -> None:
    name = f"backsmith.test.{secrets.token_hex(4)}"
    exchange = await rabbitmq.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await rabbitmq.declare_queue(exclusive=True)
    await queue.bind(exchange, routing_key="parcel.#")
    settings = {"events_url": f"{RABBITMQ}?exchange={name}", "event_backoff_ms": 50}
    app = await start_app(parcels, database_url, **settings)
    try:
        async with client_for(app) as client:
            parcel = await created(client, "/parcels", {"recipient": "Ada"})
            assert (await client.post(f"/parcels/{parcel['id']}/ship")).status_code == 200
            taken = await _take(queue, 3)  # the create's hook announces the parcel too
        ids = [row["event_id"] for row in await outbox(app)]
        assert [message.message_id for message in taken] == ids  # in order, by event id
        types = ["parcel.created", "parcel.announced", "parcel.shipped"]
        assert [message.routing_key for message in taken] == types
        assert json.loads(taken[2].body)["data"]["status"] == "shipped"
    finally:
        await stop_app(app)
        await rabbitmq.exchange_delete(name)


async def test_a_write_reaches_a_jetstream_consumer_through_the_relay(
    jetstream: NatsClient, parcels: Model, database_url: str
) -> None:
    prefix, stream, url = _nats_target()
    app = await start_app(parcels, database_url, events_url=url, event_backoff_ms=50)
    try:
        async with client_for(app) as client:
            parcel = await created(client, "/parcels", {"recipient": "Ada"})
            js = jetstream.jetstream()
            with anyio.fail_after(10):
                while True:  # the relay creates the stream on its first publish
                    try:
                        subscription = await js.pull_subscribe(f"{prefix}.>", stream=stream)
                        break
                    except Exception:
                        await asyncio.sleep(0.05)
                messages: list[Any] = []
                while len(messages) < 2:  # the create's event, and its hook's announcement
                    messages += await subscription.fetch(2 - len(messages), timeout=5)
                message = messages[0]
        row, _ = await outbox(app)
        assert message.subject == f"{prefix}.parcel.created"
        assert message.headers is not None and message.headers["Nats-Msg-Id"] == row["event_id"]
        assert json.loads(message.data)["data"]["id"] == parcel["id"]
    finally:
        await stop_app(app)
        await jetstream.jetstream().delete_stream(stream)
