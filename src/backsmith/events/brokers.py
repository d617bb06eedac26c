"""Event delivery to message brokers, RabbitMQ or NATS JetStream, chosen by the target's URL.

Services that read from a broker take events from there rather than from webhooks. A publish
returns only once the broker has stored the event (publisher confirms on RabbitMQ, the
JetStream acknowledgement on NATS), so the relay never marks delivered what a broker crash
could lose. Delivery is at least once: the event id travels as `message_id` / `Nats-Msg-Id`
(by which JetStream itself drops duplicates). Connections open on the first publish and are
dropped on any failure, so the next publish connects anew and a broker restart needs no
process restart. Every wait is bounded; every failure is a one-line `DeliveryFailed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from abc import ABC, abstractmethod
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange
from nats.aio.client import Client as NatsClient
from nats.errors import NoServersError
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from backsmith.events.message import NATS_SCHEMES, DeliveryFailed, Message, masked

log = logging.getLogger("backsmith.events")

TIMEOUT = 10.0  # seconds: the longest wait to connect, and again to have one event taken
EXCHANGE = "backsmith.events"  # RabbitMQ: the topic exchange events are published to
SUBJECT = "backsmith.events"  # NATS: subjects are this prefix, a dot and the event type
STREAM = "backsmith-events"  # NATS: the JetStream stream that stores them
AMQP_SCHEMES = ("amqp", "amqps")


class Publisher(Protocol):
    """Sends events to one broker; `name` is its URL with any password masked."""

    name: str

    async def publish(self, message: Message) -> None:
        """Return once the broker has taken `message`; raise `DeliveryFailed` otherwise."""

    async def close(self) -> None:
        """Close the connection, if one is open."""


def _split(url: str, keys: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """`url` without the query parameters `keys`, and those parameters' values."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {key: value for key, value in query if key in keys and value}
    rest = urlencode([(key, value) for key, value in query if key not in keys])
    return urlunsplit(parts._replace(query=rest)), ours


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class _BrokerPublisher(ABC):
    """Connects lazily, bounds every wait, and turns any failure into `DeliveryFailed`."""

    def __init__(self, url: str, timeout: float) -> None:
        self.name = masked(url)
        self._timeout = timeout
        self._lock = asyncio.Lock()

    async def publish(self, message: Message) -> None:
        stage = "cannot connect"
        try:
            async with self._lock:
                if not self._connected():
                    await self._disconnect()  # whatever a failed or cancelled attempt left
                    async with asyncio.timeout(self._timeout):
                        await self._connect()
            stage = f"event {message.id} not taken"
            async with asyncio.timeout(self._timeout):
                await self._send(message)
        except Exception as error:
            async with self._lock:
                await self._disconnect()
            if isinstance(error, TimeoutError) and not str(error):
                raise DeliveryFailed(f"{stage}: no answer within {self._timeout:g} s") from error
            raise DeliveryFailed(f"{stage}: {_reason(error)}") from error

    async def close(self) -> None:
        async with self._lock:
            await self._disconnect()

    @abstractmethod
    def _connected(self) -> bool: ...
    @abstractmethod
    async def _connect(self) -> None: ...
    @abstractmethod
    async def _send(self, message: Message) -> None: ...
    @abstractmethod
    async def _disconnect(self) -> None: ...


class RabbitPublisher(_BrokerPublisher):
    """Publishes to a durable topic exchange, routed by event type, with confirms."""

    def __init__(self, url: str, timeout: float = TIMEOUT) -> None:
        super().__init__(url, timeout)
        self._url, query = _split(url, ("exchange",))
        self.exchange = query.get("exchange", EXCHANGE)
        self._connection: AbstractConnection | None = None
        self._exchange: tuple[AbstractChannel, AbstractExchange] | None = None

    def _connected(self) -> bool:
        return self._exchange is not None and not self._exchange[0].is_closed

    async def _connect(self) -> None:
        self._connection = await aio_pika.connect(self._url, timeout=self._timeout)
        channel = await self._connection.channel(publisher_confirms=True)
        kind = aio_pika.ExchangeType.TOPIC
        exchange = await channel.declare_exchange(self.exchange, kind, durable=True)
        self._exchange = channel, exchange

    async def _send(self, message: Message) -> None:
        assert self._exchange is not None
        amqp = aio_pika.Message(
            message.body,
            message_id=message.id,
            type=message.type,
            timestamp=message.timestamp,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        # Not mandatory: an event no queue is bound for yet is still taken, not retried.
        await self._exchange[1].publish(amqp, routing_key=message.type, mandatory=False)

    async def _disconnect(self) -> None:
        connection, self._connection, self._exchange = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._timeout):
                    await connection.close()


class JetStreamPublisher(_BrokerPublisher):
    """Publishes to JetStream on `<prefix>.<type>`, the event id as `Nats-Msg-Id`."""

    def __init__(self, url: str, timeout: float = TIMEOUT) -> None:
        super().__init__(url, timeout)
        self._url, query = _split(url, ("subject", "stream"))
        self.prefix = query.get("subject", SUBJECT).rstrip(".")
        self.stream = query.get("stream", STREAM)
        self._client: NatsClient | None = None
        self._jetstream: JetStreamContext | None = None
        self._error: Exception | None = None  # the client's last, to say why a connect failed

    def _connected(self) -> bool:
        client = self._client
        return client is not None and client.is_connected and self._jetstream is not None

    async def _connect(self) -> None:
        self._client, self._error = (client := NatsClient()), None
        try:  # one more try after a second, then fail: the relay's retries do the rest
            await client.connect(
                self._url,
                name="backsmith-events",
                allow_reconnect=False,
                max_reconnect_attempts=1,
                reconnect_time_wait=1,
                connect_timeout=math.ceil(self._timeout),
                error_cb=self._on_error,
            )
        except NoServersError as error:  # says only that it gave up: tell why
            raise self._error or error from None
        jetstream = client.jetstream(timeout=self._timeout)
        try:
            await jetstream.stream_info(self.stream)
        except NotFoundError:
            config = StreamConfig(name=self.stream, subjects=[f"{self.prefix}.>"])
            await jetstream.add_stream(config)
        self._jetstream = jetstream

    async def _on_error(self, error: Exception) -> None:
        self._error = error
        log.debug("NATS %s: %s", self.name, _reason(error))

    async def _send(self, message: Message) -> None:
        assert self._jetstream is not None
        await self._jetstream.publish(
            f"{self.prefix}.{message.type}", message.body, headers={"Nats-Msg-Id": message.id}
        )

    async def _disconnect(self) -> None:
        client, self._client, self._jetstream = self._client, None, None
        if client is not None and not client.is_closed:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._timeout):
                    await client.close()


def broker_publisher(url: str, timeout: float = TIMEOUT) -> Publisher:
    """The publisher for `url`: amqp(s):// is RabbitMQ, nats:// or tls:// NATS JetStream.

    Nothing connects until the first publish. Query parameters choose where events go:
    `?exchange=` on RabbitMQ, `?subject=` (the prefix) and `?stream=` on NATS.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme in AMQP_SCHEMES:
        return RabbitPublisher(url, timeout)
    if scheme in NATS_SCHEMES:
        return JetStreamPublisher(url, timeout)
    accepted = ", ".join(f"{name}://" for name in AMQP_SCHEMES + NATS_SCHEMES)
    raise ValueError(f"no message broker for {masked(url)}: the URL must start with {accepted}")
