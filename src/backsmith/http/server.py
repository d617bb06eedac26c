"""The HTTP/1.1 protocol the server runs, answering requests it cannot parse as problem+json.

uvicorn answers a request line or header it cannot parse (an over-long line, a raw 0xFF
byte in the path, a bad Content-Length, bytes that are not HTTP) itself, before any
application runs, with `text/plain`. The protocols below answer the same 400 and close the
connection as uvicorn does, with a problem body instead. What stays `text/plain` is listed
in docs/http-errors.md.

uvicorn also waits for ever for a request's head on a new connection (its keep-alive
timer runs only between requests), so a thousand clients that connect and send a byte now
and then would hold the server. The httptools protocol gives each request's head
`read_timeout_seconds` from its first byte (or from the connection), then answers 408 and
closes. The keep-alive wait between requests is kept by the same watch: uvicorn made and
cancelled a timer for it on every request.
"""

from __future__ import annotations

import asyncio
import os
import urllib.parse
from typing import Any, ClassVar

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol

from backsmith.errors import BadRequest, Problem, RequestTimeout, ServiceUnavailable
from backsmith.http.problems import PROBLEM_TYPE
from backsmith.http.request import BODY_WATCHED_KEY
from backsmith.http.stack import security_headers


def _problem(error: type[Problem], detail: str) -> bytes:
    """A problem body the server sends itself; it cannot tell which path was asked for,
    so the problem names no instance."""
    return orjson.dumps(
        {
            "type": PROBLEM_TYPE + error.slug,
            "title": error.title,
            "status": error.status,
            "detail": detail,
            "code": error.code,
        }
    )


UNPARSABLE = _problem(BadRequest, "The request is not valid HTTP/1.1; the connection is closed.")
SLOW_HEAD = _problem(
    RequestTimeout, "The request's head did not arrive in time; the connection is closed."
)
SLOW_BODY = _problem(
    RequestTimeout, "The request's body stopped arriving; the connection is closed."
)
OVERLOADED = _problem(
    ServiceUnavailable, "The server has as many connections as it takes; try again shortly."
)
REFUSAL_HEADERS = [
    *security_headers(0),
    (b"content-type", b"application/problem+json"),
    (b"content-length", str(len(UNPARSABLE)).encode()),
    (b"connection", b"close"),
]


class ProblemH11Protocol(H11Protocol):
    """The pure-Python protocol, used where httptools is not installed."""

    def send_400_response(self, msg: str) -> None:
        headers = [*self.server_state.default_headers, *REFUSAL_HEADERS]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=UNPARSABLE),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()


ProblemHTTPProtocol: type[asyncio.Protocol]
# A request's method as the scope holds it, read once for the usual ones.
_METHODS = {m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")}
try:
    import httptools
    from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

    from backsmith.http.one_write import OneWriteCycle
except ImportError:  # pragma: no cover - httptools is optional for uvicorn
    ProblemHTTPProtocol = ProblemH11Protocol
else:

    class ProblemHttpToolsProtocol(HttpToolsProtocol):
        """The protocol uvicorn picks where httptools is installed (its `auto`)."""

        # When the head of the request now arriving began (the loop's clock), else None;
        # when its body last made progress, until it is complete.
        head_since: float | None = None
        body_since: float | None = None
        # When the last answer went out, while no next request has begun: a connection
        # idle for uvicorn's `timeout_keep_alive` is closed, as uvicorn's timer did.
        idle_since: float | None = None

        def send_400_response(self, msg: str) -> None:
            self._refuse(400, UNPARSABLE)

        def _refuse(self, status: int, body: bytes) -> None:
            head = [STATUS_LINE[status]]
            headers = [*self.server_state.default_headers, *REFUSAL_HEADERS]
            headers[-2] = (b"content-length", str(len(body)).encode())
            for name, value in headers:
                head.extend([name, b": ", value, b"\r\n"])
            self.transport.write(b"".join([*head, b"\r\n", body]))
            self.transport.close()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self.head_since = self.loop.time()
            ReadWatch.of(self.loop).add(self)

        # uvicorn's parser callbacks, each doing the same in fewer steps: for a small
        # request the server's own work was a fifth of all a get by key cost.
        def data_received(self, data: bytes) -> None:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                self.send_400_response("Invalid HTTP request received.")
            except httptools.HttpParserUpgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()

        def on_message_begin(self) -> None:
            self.idle_since = None
            if self.head_since is None:  # the next request on a kept-alive connection
                self.head_since = self.loop.time()
            self.url = b""
            self.expect_100_continue = False
            self.headers = []
            self.scope = {  # type: ignore[typeddict-item]
                "type": "http",
                "asgi": {"version": self.asgi_version, "spec_version": "2.3"},
                "http_version": "1.1",
                "server": self.server,
                "client": self.client,
                "scheme": self.scheme,  # type: ignore[typeddict-item]
                "root_path": self.root_path,
                "headers": self.headers,
                "state": self.app_state.copy(),
            }

        def on_headers_complete(self) -> None:
            self.head_since = None
            parser, scope = self.parser, self.scope
            method = parser.get_method()
            scope["method"] = _METHODS.get(method) or method.decode("ascii")
            version = parser.get_http_version()
            if version != "1.1":
                scope["http_version"] = version
            if parser.should_upgrade() and self._should_upgrade():
                return
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
            if not parser.should_upgrade():
                self.body_since = self.loop.time()
                scope[BODY_WATCHED_KEY] = True  # type: ignore[literal-required]
            app = self.app
            limit = self.limit_concurrency
            if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
                app = overloaded
                self.logger.warning("Exceeded concurrency limit.")
            keep_alive = version != "1.0" and parser.should_keep_alive()
            existing = self.cycle
            cycle = self.cycle = OneWriteCycle.start(self, scope, keep_alive)
            if existing is None or existing.response_complete:
                self._start_asgi_task(cycle, app)
            else:  # a pipelined request waits for the answer before it
                self.flow.pause_reading()
                self.pipeline.appendleft((cycle, app))

        def on_body(self, body: bytes) -> None:
            self.body_since = self.loop.time()
            cycle = self.cycle
            if cycle.response_complete or (self.parser.should_upgrade() and self._should_upgrade()):
                return
            cycle.body += body
            if len(cycle.body) > HIGH_WATER_LIMIT:
                self.flow.pause_reading()
            cycle.message_event.set()

        def on_message_complete(self) -> None:
            self.body_since = None
            cycle = self.cycle
            if cycle.response_complete or (self.parser.should_upgrade() and self._should_upgrade()):
                return
            cycle.more_body = False
            cycle.message_event.set()

        def on_response_complete(self) -> None:
            """uvicorn's, with the keep-alive wait noted for the watch instead of timed."""
            self.server_state.total_requests += 1
            if self.transport.is_closing():
                return
            self.flow.resume_reading()
            if self.pipeline:  # a request that arrived meanwhile starts now
                cycle, app = self.pipeline.pop()
                self._start_asgi_task(cycle, app)
            else:
                self.idle_since = self.loop.time()

        def connection_lost(self, exc: Exception | None) -> None:
            self.head_since = self.body_since = self.idle_since = None
            ReadWatch.of(self.loop).discard(self)
            super().connection_lost(exc)

        def kept_too_long(self) -> None:
            self.idle_since = None
            if not self.transport.is_closing():
                self.transport.close()

        def head_too_slow(self) -> None:
            self.head_since = None
            if not self.transport.is_closing():
                self._refuse(408, SLOW_HEAD)

        def body_too_slow(self) -> None:
            """A body that stopped arriving: 408 and the connection closed, unless an answer
            has begun (then only closed). The app reading it is told the client is gone."""
            self.body_since = None
            cycle = self.cycle
            if self.transport.is_closing() or cycle is None:
                return
            cycle.disconnected = True  # the app's answer, if any comes, is not written
            cycle.message_event.set()
            if cycle.response_started:
                self.transport.close()
            else:
                self._refuse(408, SLOW_BODY)

    class ReadWatch:
        """The open connections of one event loop, looked at a few times each timeout for
        a head that began, or a body that last moved, longer than `read_timeout_seconds`
        ago, and for a connection idle between requests for longer than its keep-alive
        (closed up to a period late: uvicorn's 5 s may be up to 6).

        A timer per request would be made and cancelled on every request of a busy
        connection; here a request only notes the time its head began and its body moved.
        """

        _watches: ClassVar[dict[asyncio.AbstractEventLoop, ReadWatch]] = {}

        def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
            self.loop = loop
            self.timeout = read_timeout()
            self.connections: set[ProblemHttpToolsProtocol] = set()
            self.timer: asyncio.TimerHandle | None = None

        @classmethod
        def of(cls, loop: asyncio.AbstractEventLoop) -> ReadWatch:
            watch = cls._watches.get(loop)
            if watch is None:
                watch = cls._watches[loop] = cls(loop)
            return watch

        def add(self, connection: ProblemHttpToolsProtocol) -> None:
            self.connections.add(connection)
            if self.timer is None:
                self.timer = self.loop.call_later(self.period, self.look)

        def discard(self, connection: ProblemHttpToolsProtocol) -> None:
            self.connections.discard(connection)

        @property
        def period(self) -> float:
            return min(1.0, self.timeout / 4)

        def look(self) -> None:
            self.timer = None
            now = self.loop.time()
            late = now - self.timeout
            # A paused read is the app behind, not the client. A copy: closing discards.
            for connection in list(self.connections):
                if (connection.head_since or late) < late:
                    connection.head_too_slow()
                elif (connection.body_since or late) < late and not connection.flow.read_paused:
                    connection.body_too_slow()
                elif (idle := connection.idle_since) is not None and (
                    idle < now - connection.timeout_keep_alive
                ):
                    connection.kept_too_long()
            if self.connections:
                self.timer = self.loop.call_later(self.period, self.look)
            else:  # looked at again by the next connection (a loop of a test may be gone)
                del self._watches[self.loop]

    ProblemHTTPProtocol = ProblemHttpToolsProtocol


def read_timeout() -> float:
    """`read_timeout_seconds`, as `serve` hands its settings to the server's processes."""
    try:
        return max(1.0, float(os.environ.get("BACKSMITH_READ_TIMEOUT_SECONDS", "10")))
    except ValueError:
        return 10.0


async def overloaded(scope: Any, receive: Any, send: Any) -> None:
    """The answer past `max_connections` (uvicorn's `limit_concurrency`): problem+json."""
    headers = [
        *security_headers(0),
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(OVERLOADED)).encode()),
        (b"retry-after", b"1"),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": OVERLOADED})


def _adapt_uvicorn() -> None:
    """uvicorn's protocols answer past their connection cap with their module's
    `service_unavailable`, in text/plain; ours answer in problem+json. Its httptools
    protocol makes a `RequestResponseCycle` per request; ours is `OneWriteCycle`."""
    from uvicorn.protocols.http import h11_impl

    h11_impl.service_unavailable = overloaded  # type: ignore[attr-defined]
    try:
        from uvicorn.protocols.http import httptools_impl
    except ImportError:  # pragma: no cover - httptools is optional for uvicorn
        return
    httptools_impl.service_unavailable = overloaded  # type: ignore[attr-defined]
    httptools_impl.RequestResponseCycle = OneWriteCycle  # type: ignore[misc]


_adapt_uvicorn()
