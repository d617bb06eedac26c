"""The HTTP/1.1 protocol the server runs, answering requests it cannot parse as problem+json.

uvicorn answers a request line or header it cannot parse (an over-long line, a raw 0xFF
byte in the path, a bad Content-Length, bytes that are not HTTP) itself, before any
application runs, with `text/plain`. The protocols below answer the same 400 and close the
connection as uvicorn does, with a problem body instead. What stays `text/plain` is listed
in docs/http-errors.md.
"""

from __future__ import annotations

import asyncio

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol

from backsmith.errors import BadRequest
from backsmith.http.problems import PROBLEM_TYPE
from backsmith.http.stack import security_headers

# The server cannot tell which path was asked for, so the problem names no instance.
UNPARSABLE = orjson.dumps(
    {
        "type": PROBLEM_TYPE + BadRequest.slug,
        "title": BadRequest.title,
        "status": BadRequest.status,
        "detail": "The request is not valid HTTP/1.1; the connection is closed.",
        "code": BadRequest.code,
    }
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

        def send_400_response(self, msg: str) -> None:
            head = [STATUS_LINE[400]]
            for name, value in [*self.server_state.default_headers, *REFUSAL_HEADERS]:
                head.extend([name, b": ", value, b"\r\n"])
            self.transport.write(b"".join([*head, b"\r\n", UNPARSABLE]))
            self.transport.close()

    ProblemHTTPProtocol = ProblemHttpToolsProtocol
