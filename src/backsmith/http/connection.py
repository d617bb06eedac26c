"""One client's HTTP/1.1 connection: httptools reads the requests, the app answers each.

uvicorn runs the server (its sockets, workers, signals, lifespan and graceful stop) and
makes one of these per connection, as it makes its own protocols: `http=` names this
class. Ours, not uvicorn's, because the server's own work was a fifth of what a get by key
cost, most of it in steps the app never needs: a timer made and cancelled per request,
an `asyncio.Event` and a task callback per request, a check of every header by regex.

What it keeps of uvicorn's: the scope it builds, keep-alive and `Connection: close`,
pipelined requests answered in order, `Expect: 100-continue`, reading paused while a body
waits unread or the client does not read, `limit_concurrency` (answered 503 problem+json),
the `shutdown()` the server calls on a graceful stop. What it adds: a request that is not
HTTP/1.1 is answered 400 problem+json, and a head or body that stops arriving 408
(`backsmith.http.read_watch`), each closed lingering (`refuse`) so that the answer is
not lost to a reset. WebSocket upgrades are not taken: the request is answered as any
other and the connection closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import urllib.parse
from collections import deque
from typing import Any

import httptools
from uvicorn.protocols.utils import get_local_addr, get_remote_addr, is_ssl

from backsmith.http.exchange import STATUS_LINE, Exchange
from backsmith.http.read_watch import ReadWatch
from backsmith.http.refusals import (
    REFUSAL_HEADERS,
    SLOW_BODY,
    SLOW_HEAD,
    UNPARSABLE,
    overloaded,
)
from backsmith.http.request import BODY_WATCHED_KEY

logger = logging.getLogger("uvicorn.error")
# A request's method as the scope holds it, read once for the usual ones.
_METHODS = {m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")}
# Past this many bytes of a body the app has not read, the client is not read either.
HIGH_WATER = 65_536
# How long a refused client may go on sending before its connection is closed.
LINGER_S = 2.0


class Connection(asyncio.Protocol):
    """The protocol `backsmith serve` runs: made by uvicorn's server, one per connection."""

    # When the head of the request now arriving began (the loop's clock), else None; when
    # its body last made progress, until it is complete; when the last answer went out,
    # while no next request has begun (closed after `timeout_keep_alive`).
    head_since: float | None = None
    body_since: float | None = None
    idle_since: float | None = None
    lingering = False  # refused: the answer is sent, the client's bytes are dropped

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self.app = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.parser = httptools.HttpRequestParser(self)
        # Answer the first of pipelined requests even when the client closes after them
        # (httptools 0.6.3 and later).
        with contextlib.suppress(AttributeError):
            self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self.root_path: str = config.root_path
        self.asgi = {"version": config.asgi_version, "spec_version": "2.3"}
        self.limit: int | None = config.limit_concurrency
        self.timeout_keep_alive: float = config.timeout_keep_alive
        self.fresh_context = bool(getattr(config, "reset_contextvars", False))
        self.app_state = app_state
        self.server_state = server_state
        self.connections: set[Any] = server_state.connections
        self.tasks: set[asyncio.Task[None]] = server_state.tasks
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.server: tuple[str, int | None] | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = "http"
        self.read_paused = False
        self.write_paused = False
        self.writable = asyncio.Event()
        self.writable.set()
        # The exchange of the request now being read or answered, and requests read
        # while an earlier one is answered (pipelined), oldest on the right.
        self.exchange: Exchange | None = None
        self.pipeline: deque[tuple[Exchange, Any]] = deque()
        # The request whose head is being read.
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.scope: dict[str, Any] = {}
        self.expect_continue = False

    # ------------------------------------------------------------------ the transport
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.connections.add(self)
        self.transport = transport  # type: ignore[assignment]
        self.server = get_local_addr(transport)  # type: ignore[arg-type]
        self.client = get_remote_addr(transport)  # type: ignore[arg-type]
        if is_ssl(transport):  # type: ignore[arg-type]
            self.scheme = "https"
        self.head_since = self.loop.time()
        ReadWatch.of(self.loop).add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self.head_since = self.body_since = self.idle_since = None
        ReadWatch.of(self.loop).discard(self)
        exchange = self.exchange
        if exchange is not None:
            if not exchange.complete:
                exchange.disconnected = True
            exchange.wake()
        self.resume_writing()
        if exc is None:
            self.transport.close()
        self.parser = None  # type: ignore[assignment]

    def eof_received(self) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        if self.lingering:  # refused: what still comes is dropped
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.refuse(400, UNPARSABLE)
        except httptools.HttpParserUpgrade:
            logger.warning("Unsupported upgrade request.")
            if self.exchange is not None:  # answered as any request, then closed
                self.exchange.keep_alive = False

    def pause_reading(self) -> None:
        if not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()

    def pause_writing(self) -> None:
        self.write_paused = True
        self.writable.clear()

    def resume_writing(self) -> None:
        self.write_paused = False
        self.writable.set()

    async def drain(self) -> None:
        await self.writable.wait()

    # ------------------------------------------------------------------ httptools' calls
    def on_message_begin(self) -> None:
        self.idle_since = None
        if self.head_since is None:  # the next request on a kept-alive connection
            self.head_since = self.loop.time()
        self.url = b""
        self.expect_continue = False
        self.headers = []
        self.scope = {
            "type": "http",
            "asgi": self.asgi,
            "http_version": "1.1",
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "root_path": self.root_path,
            "headers": self.headers,
            "state": self.app_state.copy(),
        }

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        value = value.rstrip(b" \t")  # llhttp keeps trailing spaces; RFC 9110 §5.5 does not
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.head_since = None
        parser, scope = self.parser, self.scope
        method = parser.get_method()
        scope["method"] = _METHODS.get(method) or method.decode("ascii")
        version = parser.get_http_version()
        if version != "1.1":
            scope["http_version"] = version
        url = httptools.parse_url(self.url)
        raw_path = url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        if self.root_path:
            path = self.root_path + path
            raw_path = self.root_path.encode("ascii") + raw_path
        scope["path"] = path
        scope["raw_path"] = raw_path
        scope["query_string"] = url.query or b""
        # The app reads the body with no timer of its own: this connection's last
        # progress is noted here, and the watch answers 408 when it stalls.
        self.body_since = self.loop.time()
        scope[BODY_WATCHED_KEY] = True
        app = self.app
        limit = self.limit
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
            app = overloaded
            logger.warning("Exceeded concurrency limit.")
        keep_alive = version != "1.0" and parser.should_keep_alive()
        existing = self.exchange
        exchange = self.exchange = Exchange(self, scope, keep_alive, self.expect_continue)
        if existing is None or existing.complete:
            self._run(exchange, app)
        else:  # a pipelined request waits for the answer before it
            self.pause_reading()
            self.pipeline.appendleft((exchange, app))

    def on_body(self, body: bytes) -> None:
        self.body_since = self.loop.time()
        exchange = self.exchange
        if exchange is None or exchange.complete:
            return
        exchange.body.append(body)
        if sum(map(len, exchange.body)) > HIGH_WATER:
            self.pause_reading()
        exchange.wake()

    def on_message_complete(self) -> None:
        self.body_since = None
        exchange = self.exchange
        if exchange is None or exchange.complete:
            return
        exchange.more_body = False
        exchange.wake()

    # ------------------------------------------------------------------ the app's side
    def _run(self, exchange: Exchange, app: Any) -> None:
        if self.fresh_context:  # uvicorn's `reset_contextvars`: no context the lifespan set
            task = self.loop.create_task(exchange.run(app), context=contextvars.Context())
        else:
            task = self.loop.create_task(exchange.run(app))
        exchange.task = task
        self.tasks.add(task)

    def exchange_done(self, exchange: Exchange) -> None:
        """The app has returned: its task is no longer the server's to wait for."""
        # Not `asyncio.current_task()`: on Python 3.11 each call asks the kernel for the pid.
        self.tasks.discard(exchange.task)

    def answered(self) -> None:
        """The answer's last byte is written: the next request may begin."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.resume_reading()
        if self.pipeline:  # a request that arrived meanwhile starts now
            exchange, app = self.pipeline.pop()
            self._run(exchange, app)
        else:
            self.idle_since = self.loop.time()

    def shutdown(self) -> None:
        """The server is stopping: close now if idle, else after the answer under way."""
        exchange = self.exchange
        if exchange is None or exchange.complete or self.lingering:
            self.transport.close()
        else:
            exchange.keep_alive = False

    # ------------------------------------------------------------------ the read watch
    def refuse(self, status: int, body: bytes) -> None:
        """The server's own answer, problem+json, and the connection closed.

        Closed lingering: the answer and the end of our side are sent, then what the
        client still sends is read and dropped, until it closes or `LINGER_S` pass. A
        close with the client's bytes unread makes the kernel reset the connection, and
        a reset can reach the client before the answer it follows, which is then lost.
        """
        transport = self.transport
        if self.lingering or transport.is_closing():
            return
        head = [STATUS_LINE[status]]
        headers = [*self.server_state.default_headers, *REFUSAL_HEADERS]
        headers[-2] = (b"content-length", str(len(body)).encode())
        for name, value in headers:
            head.extend([name, b": ", value, b"\r\n"])
        transport.write(b"".join([*head, b"\r\n", body]))
        self.lingering = True
        self.head_since = self.body_since = self.idle_since = None
        for exchange in (self.exchange, *(waiting for waiting, _ in self.pipeline)):
            if exchange is not None and not exchange.complete:
                exchange.disconnected = True  # nothing more is written on this connection
                exchange.wake()
        if not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        self.resume_reading()
        self.loop.call_later(LINGER_S, transport.close)

    def kept_too_long(self) -> None:
        self.idle_since = None
        if not self.transport.is_closing():
            self.transport.close()

    def head_too_slow(self) -> None:
        self.head_since = None
        self.refuse(408, SLOW_HEAD)

    def body_too_slow(self) -> None:
        """A body that stopped arriving: 408 and the connection closed, unless an answer
        has begun (then only closed). The app reading it is told the client is gone."""
        self.body_since = None
        exchange = self.exchange
        if self.transport.is_closing() or exchange is None:
            return
        if exchange.started:  # too late for a 408: the app's answer is not written on
            exchange.disconnected = True
            exchange.wake()
            self.transport.close()
        else:
            self.refuse(408, SLOW_BODY)  # which tells the app the client is gone
