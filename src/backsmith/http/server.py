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
closes.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol

from backsmith.errors import BadRequest, Problem, RequestTimeout, ServiceUnavailable
from backsmith.http.problems import PROBLEM_TYPE
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
try:
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is optional for uvicorn
    ProblemHTTPProtocol = ProblemH11Protocol
else:

    class ProblemHttpToolsProtocol(HttpToolsProtocol):
        """The protocol uvicorn picks where httptools is installed (its `auto`)."""

        head_timer: asyncio.TimerHandle | None = None

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
            self._time_head()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self.head_timer is None:  # the next request on a kept-alive connection
                self._time_head()

        def on_headers_complete(self) -> None:
            self._untime_head()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._untime_head()
            super().connection_lost(exc)

        def _time_head(self) -> None:
            self.head_timer = self.loop.call_later(read_timeout(), self._head_too_slow)

        def _untime_head(self) -> None:
            if self.head_timer is not None:
                self.head_timer.cancel()
                self.head_timer = None

        def _head_too_slow(self) -> None:
            self.head_timer = None
            if not self.transport.is_closing():
                self._refuse(408, SLOW_HEAD)

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


def _answer_overload_as_problems() -> None:
    """uvicorn's protocols answer past their connection cap with their module's
    `service_unavailable`, in text/plain; ours answer in problem+json."""
    from uvicorn.protocols.http import h11_impl

    h11_impl.service_unavailable = overloaded  # type: ignore[attr-defined]
    try:
        from uvicorn.protocols.http import httptools_impl
    except ImportError:  # pragma: no cover - httptools is optional for uvicorn
        return
    httptools_impl.service_unavailable = overloaded  # type: ignore[attr-defined]


_answer_overload_as_problems()
