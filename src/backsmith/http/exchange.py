"""One request and its answer on a connection: the ASGI `receive` and `send` the app gets.

The usual answer (one body of a declared length, as every answer of the app is) leaves in
one write to the socket: its head is built and checked when the app sends
`http.response.start`, held, and written with the body. Two writes would be two system
calls, and with Nagle off two packets for the client to read. Anything else (no length, a
body in parts, HEAD, writes paused) is written as it comes, head first, with the framing
HTTP/1.1 asks: chunks where no length was given, nothing of a HEAD answer's body.

A header name or value that could end the line it stands on (a CR, LF or NUL in it, or a
name with a separator) is refused with `RuntimeError` before anything is written: an
answer cannot forge a header or a second answer.
"""

from __future__ import annotations

import asyncio
import http
import logging
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backsmith.http.connection import Connection

logger = logging.getLogger("uvicorn.error")

# The bytes RFC 9110 lets stand in a field name (a token) and a field value: each other
# byte becomes a NUL in these tables, so one `translate` and one `in` over all names (all
# values) check what a regex search per header did.
_NAME_BAD = re.compile(b'[\x00-\x1f\x7f()<>@,;:\\[\\]={} \t\\\\"]')
_VALUE_BAD = re.compile(b"[\x00-\x08\x0a-\x1f\x7f]")
_NAME_CHECK = bytes(0 if _NAME_BAD.match(bytes([b])) else 0x61 for b in range(256))
_VALUE_CHECK = bytes(0 if _VALUE_BAD.match(bytes([b])) else 0x61 for b in range(256))
_DISCONNECT = {"type": "http.disconnect"}
_CONTENT_LENGTH, _TRANSFER_ENCODING, _CONNECTION = (
    b"content-length",
    b"transfer-encoding",
    b"connection",
)


def _status_line(status: int) -> bytes:
    try:
        phrase = http.HTTPStatus(status).phrase.encode()
    except ValueError:
        phrase = b""
    return b"HTTP/1.1 %d %s\r\n" % (status, phrase)


STATUS_LINE = {status: _status_line(status) for status in range(100, 600)}

# The server's own lines (its date) for the last list of them it made: it makes a new one
# each second, and every answer of that second begins with the same lines.
_server: tuple[object, bytes] = (None, b"")


def server_lines(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The server's own header lines, `headers` joined once for as long as it is current."""
    global _server
    if _server[0] is not headers:
        _server = (headers, b"".join([name + b": " + value + b"\r\n" for name, value in headers]))
    return _server[1]


_SERVER_FAULT = (
    b"content-type: text/plain; charset=utf-8\r\ncontent-length: 21\r\n"
    b"connection: close\r\n\r\nInternal Server Error"
)


class Exchange:
    """A request's state as the connection reads it and the app answers it."""

    __slots__ = (
        "body",
        "chunked",
        "complete",
        "connection",
        "delivered",
        "disconnected",
        "expect_continue",
        "held",
        "keep_alive",
        "more_body",
        "remaining",
        "scope",
        "started",
        "task",
        "transport",
        "waiter",
    )

    def __init__(
        self, connection: Connection, scope: Any, keep_alive: bool, expect_continue: bool
    ) -> None:
        self.connection = connection
        self.transport = connection.transport
        self.scope = scope
        self.keep_alive = keep_alive
        self.expect_continue = expect_continue
        # The request's body as it arrives: parts not yet handed to the app; whether more
        # is coming; whether the app has had its last part.
        self.body: list[bytes] = []
        self.more_body = True
        self.delivered = False
        self.waiter: asyncio.Future[None] | None = None  # the app waiting for the above
        # The answer: begun, its head held for the body, chunked, bytes still owed, ended.
        self.started = False
        self.held = b""
        self.chunked = False
        self.remaining = 0
        self.complete = False
        self.disconnected = False
        self.task: asyncio.Task[None] | None = None  # the app's, set as it starts

    def wake(self) -> None:
        """Something the app may wait for happened: a part of the body, its end, the
        client gone, the answer ended."""
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def run(self, app: Any) -> None:
        """The app on this request; a fault before its answer began is a 500."""
        try:
            await app(self.scope, self.receive, self.send)
        except BaseException as error:
            logger.error("Exception in ASGI application\n", exc_info=error)
            if not self.started:
                self._server_fault()
            else:
                self.transport.close()
        else:
            if not self.started and not self.disconnected:
                logger.error("ASGI callable returned without starting response.")
                self._server_fault()
            elif not self.complete and not self.disconnected:
                logger.error("ASGI callable returned without completing response.")
                self.transport.close()
        finally:
            self.connection.exchange_done(self)

    def _server_fault(self) -> None:
        if not self.disconnected and not self.transport.is_closing():
            head = STATUS_LINE[500] + server_lines(self.connection.server_state.default_headers)
            self.transport.write(head + _SERVER_FAULT)
            self.transport.close()
        self.complete = True

    # ------------------------------------------------------------------ receive
    async def receive(self) -> dict[str, Any]:
        if self.expect_continue:  # the client waits to be told to send its body
            self.expect_continue = False
            if not self.transport.is_closing():
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if not (self.disconnected or self.complete) and (
            self.delivered or (self.more_body and not self.body)
        ):
            self.connection.resume_reading()
            self.waiter = self.connection.loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        if self.disconnected or self.complete:
            return _DISCONNECT
        parts, self.body = self.body, []
        self.delivered = not self.more_body
        body = parts[0] if len(parts) == 1 else b"".join(parts)
        return {"type": "http.request", "body": body, "more_body": self.more_body}

    # ------------------------------------------------------------------ send
    async def send(self, message: Any) -> None:
        if self.connection.write_paused and not self.disconnected:
            await self.connection.drain()
        if self.disconnected:
            return
        if not self.started:
            self._start(message)
        elif not self.complete:
            self._body(message)
        else:
            raise RuntimeError(
                f"Unexpected ASGI message '{message['type']}' sent, after response already "
                "completed."
            )

    def _start(self, message: Any) -> None:
        if message["type"] != "http.response.start":
            raise RuntimeError(
                f"Expected ASGI message 'http.response.start', but got '{message['type']}'."
            )
        headers = message.get("headers", ())
        if type(headers) is not list:  # any iterable of pairs, as ASGI allows
            headers = [(name, value) for name, value in headers]
        names = [name for name, _ in headers]
        joined = b"".join(names)
        if 0 in joined.translate(_NAME_CHECK):
            raise RuntimeError("Invalid HTTP header name.")
        # A tab may stand in a value, never in a name, so it keeps the values apart.
        # (`0 in` looks for the byte; `b"\0" in` would first raise and drop a TypeError.)
        if 0 in b"\t".join([value for _, value in headers]).translate(_VALUE_CHECK):
            raise RuntimeError("Invalid HTTP header value.")
        self.started = True
        self.expect_continue = False
        status = message["status"]
        content = [STATUS_LINE[status], server_lines(self.connection.server_state.default_headers)]
        if not joined.islower():  # the app's own are lower case: nothing to change
            headers = [(name.lower(), value) for name, value in headers]
            names = [name for name, _ in headers]
        for name, value in headers:
            content += (name, b": ", value, b"\r\n")
        length: bytes | None = None
        if _CONTENT_LENGTH in names:
            length = headers[names.index(_CONTENT_LENGTH)][1]
            self.remaining = int(length)
        elif (
            _TRANSFER_ENCODING in names
            and headers[names.index(_TRANSFER_ENCODING)][1].lower() == b"chunked"
        ):
            self.chunked = True
        elif self.scope["method"] != "HEAD" and status not in (204, 304):
            self.chunked = True
            content.append(b"transfer-encoding: chunked\r\n")
        if _CONNECTION in names:
            tokens = headers[names.index(_CONNECTION)][1].lower().split(b",")
            if b"close" in [token.strip() for token in tokens]:
                self.keep_alive = False
        elif not self.keep_alive:
            content.append(b"connection: close\r\n")
        content.append(b"\r\n")
        head = b"".join(content)
        if length is None or self.scope["method"] == "HEAD" or self.connection.write_paused:
            self.transport.write(head)
        else:
            self.held = head

    def _body(self, message: Any) -> None:
        if message["type"] != "http.response.body":
            raise RuntimeError(
                f"Expected ASGI message 'http.response.body', but got '{message['type']}'."
            )
        body = message.get("body", b"")
        more = message.get("more_body", False)
        head, self.held = self.held, b""
        if self.scope["method"] == "HEAD":
            self.remaining = 0
        elif self.chunked:
            content = [head, b"%x\r\n" % len(body), body, b"\r\n"] if body else [head]
            if not more:
                content.append(b"0\r\n\r\n")
            self.transport.write(b"".join(content))
        else:
            if len(body) > self.remaining:
                self.transport.write(head)
                raise RuntimeError("Response content longer than Content-Length")
            self.remaining -= len(body)
            self.transport.write(head + body if head else body)
        if not more:
            if self.remaining:
                raise RuntimeError("Response content shorter than Content-Length")
            self.complete = True
            self.wake()
            if not self.keep_alive:
                self.transport.close()
            self.connection.answered()
