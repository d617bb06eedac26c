"""One line per request: what was asked (the route, never the path with its ids), of
which operation, by whom, answered how and how fast.

Never a token, password, API key, body or query: a line is built from the route
template, the operation id, the status, the duration and the caller's subject only.

The lines are gathered and written to standard error (its file is unbuffered) a tenth of a
second after the first of them, or at once when 256 wait, and when the app stops: one
write for many requests. A JSON line is built from its operation's members serialised
once; serialising a dict of nine members for each request cost a busy server about a
sixth of a get's CPU.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import os
import re
import sys
import time
import weakref
from typing import Any, Protocol

import orjson

from backsmith.logs import timestamp

# An incoming X-Request-ID is kept when it is short and plain, so it cannot forge log lines.
_PLAIN_ID = re.compile(rb"[\w.:@/+=-]{1,128}")
_REQUEST_ID = b"x-request-id"
FLUSH_SECONDS = 0.1
FLUSH_LINES = 256
_LINE = (
    b'{"time":"%s","level":"info","logger":"backsmith.requests","request_id":"%s",%s%d,'
    b'"duration_ms":%.3f%s'
)
_MIDDLES = 1024
# Every request log of the process, written out when the app stops and at exit.
_LOGS: weakref.WeakSet[RequestLog] = weakref.WeakSet()


# A new id is this process's random half and a count: unique, and no system call each.
_PROCESS = os.urandom(8).hex()
_COUNT = itertools.count(1)


def request_id(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The client's X-Request-ID when it is plain, else a new one (32 hex digits)."""
    for name, value in headers:
        if name == _REQUEST_ID:
            if _PLAIN_ID.fullmatch(value):
                return value
            break
    return f"{_PROCESS}{next(_COUNT):016x}".encode()


class Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...


class RequestLog:
    """Writes the request lines, as JSON or for a console."""

    def __init__(self, log_format: str, stream: Sink | None = None) -> None:
        self._stream = stream if stream is not None else _stderr()
        self._pending: list[bytes] = []
        self._second = -1
        self._stamp = b""
        self.line = self._json if log_format == "json" else self._console
        self._timer: asyncio.TimerHandle | None = None
        self._middles: dict[tuple[str, str | None, str | None], bytes] = {}
        _LOGS.add(self)

    def write(
        self,
        request_id: bytes,
        method: str,
        route: str | None,
        operation: str | None,
        status: int,
        seconds: float,
        subject: str | None,
        trace_id: str | None,
    ) -> None:
        pending = self._pending
        pending.append(
            self.line(request_id, method, route, operation, status, seconds, subject, trace_id)
        )
        if len(pending) == 1:  # the first line since the last write
            try:
                self._timer = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)
            except RuntimeError:  # no loop (a synchronous caller): written at once
                self.flush()
        elif len(pending) >= FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        """Write the lines waiting, if any."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        lines, self._pending = self._pending, []
        # Standard error closed: the lines have nowhere to go, and the requests are answered.
        with contextlib.suppress(OSError, ValueError):
            self._stream.write(b"".join(lines))
            self._stream.flush()

    def _now(self) -> bytes:
        """The time, its date and seconds formatted once a second."""
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = timestamp(second)[:-5].encode()
        return b"%s.%03dZ" % (self._stamp, int((now - second) * 1000))

    def _json(
        self,
        request_id: bytes,
        method: str,
        route: str | None,
        operation: str | None,
        status: int,
        seconds: float,
        subject: str | None,
        trace_id: str | None,
    ) -> bytes:
        # The members an operation's lines share are serialised once; a request id is
        # plain (`request_id`), so it needs no escaping, and the rest are numbers.
        middle = self._middles.get((method, route, operation))
        if middle is None:
            middle = orjson.dumps({"operation": operation, "method": method, "route": route})
            middle = middle[1:-1] + b',"status":'
            if len(self._middles) < _MIDDLES:  # a method is the client's: not kept unbounded
                self._middles[(method, route, operation)] = middle
        tail = b"}\n"
        if subject is not None or trace_id is not None:
            extra = {"subject": subject} if subject is not None else {}
            if trace_id is not None:
                extra["trace_id"] = trace_id
            tail = b"," + orjson.dumps(extra)[1:] + b"\n"
        return _LINE % (self._now(), request_id, middle, status, seconds * 1000, tail)

    def _console(
        self,
        request_id: bytes,
        method: str,
        route: str | None,
        operation: str | None,
        status: int,
        seconds: float,
        subject: str | None,
        trace_id: str | None,
    ) -> bytes:
        parts = [f"INFO:     {method} {route or '(no route)'} {status} {seconds * 1000:.1f}ms"]
        if operation:
            parts.append(operation)
        if subject is not None:
            parts.append(f"by {subject}")
        parts.append(f"[request {request_id.decode()}]")
        if trace_id is not None:
            parts.append(f"[trace {trace_id}]")
        return (" ".join(parts) + "\n").encode()


@atexit.register
def flush_request_logs() -> None:
    """Write every request log's waiting lines (the app's shutdown, and the process's exit)."""
    for log in list(_LOGS):
        log.flush()


def _stderr() -> Sink:
    buffer: Sink | None = getattr(sys.stderr, "buffer", None)
    return buffer if buffer is not None else _TextBytes(sys.stderr)


class _TextBytes:
    """Standard error replaced by a text-only stream (an embedding application's)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, data: bytes) -> int:
        return int(self._stream.write(data.decode()))

    def flush(self) -> None:
        self._stream.flush()
