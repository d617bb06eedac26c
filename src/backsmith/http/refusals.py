"""The answers the server gives itself, before or instead of the app: problem+json.

A request that is not HTTP/1.1 (an over-long line, a raw 0xFF byte in the path, a bad
Content-Length, bytes that are not HTTP), a head or body that stops arriving, a
connection past `max_connections`. The server cannot tell which path was asked for, so
these problems name no instance. What stays `text/plain` is listed in docs/http-errors.md.
"""

from __future__ import annotations

import os
from typing import Any

import orjson

from backsmith.errors import BadRequest, Problem, RequestTimeout, ServiceUnavailable
from backsmith.http.problems import PROBLEM_TYPE
from backsmith.http.stack import security_headers


def _problem(error: type[Problem], detail: str) -> bytes:
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
# The headers of a refusal; its content-length is the second to last.
REFUSAL_HEADERS = [
    *security_headers(0),
    (b"content-type", b"application/problem+json"),
    (b"content-length", str(len(UNPARSABLE)).encode()),
    (b"connection", b"close"),
]


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
