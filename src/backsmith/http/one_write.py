"""An answer's head and body leave in one write to the socket, not two.

uvicorn writes the status line and headers when the app sends `http.response.start`, and
the body when it sends `http.response.body`: two system calls for every answer, and with
Nagle off (as uvicorn sets it) two packets for the client to read. Here the usual answer,
one body of a declared length, is written whole when its body comes: the head is built as
uvicorn builds it (the same checks of names and values, each done once over all headers)
and held until then. Anything else (no length, chunks, HEAD, an access log, a client
gone, writes paused) is uvicorn's own `send`, with the held head written first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    RequestResponseCycle,
)

_CONTENT_LENGTH = b"content-length"
# uvicorn's two patterns as byte tables: each byte a name or value may not hold becomes a
# NUL, every other byte a letter. One `translate` and one `in` over all names (values)
# check what a regex search did, at a fraction of the cost (it ran on every answer).
_NAME_CHECK = bytes(0 if HEADER_RE.match(bytes([b])) else 0x61 for b in range(256))
_VALUE_CHECK = bytes(0 if HEADER_VALUE_RE.match(bytes([b])) else 0x61 for b in range(256))
# Headers whose presence uvicorn's own `send` acts on: an answer with one goes that way.
_TRANSFER_ENCODING, _CONNECTION = b"transfer-encoding", b"connection"


# The server's own lines (its date) for the last list of them it made: it makes a new one
# each second, and every answer of that second begins with the same lines.
_server: tuple[object, bytes] = (None, b"")


def _server_lines(headers: list[tuple[bytes, bytes]]) -> bytes:
    global _server
    if _server[0] is not headers:
        _server = (headers, b"".join([name + b": " + value + b"\r\n" for name, value in headers]))
    return _server[1]


class _Prefixed:
    """Stands for the transport while uvicorn sends the body: the held head goes first."""

    __slots__ = ("head", "transport")

    def __init__(self, transport: Any, head: bytes) -> None:
        self.transport = transport
        self.head = head

    def write(self, data: bytes) -> None:
        head, self.head = self.head, b""
        self.transport.write(head + data if head else data)

    def flush(self) -> None:
        if self.head:
            self.transport.write(self.head)
            self.head = b""

    def close(self) -> None:
        self.flush()
        self.transport.close()


class OneWriteCycle(RequestResponseCycle):
    """uvicorn's request-response cycle, writing each answer's head with its body."""

    _held = b""

    @classmethod
    def start(cls, protocol: Any, scope: Any, keep_alive: bool) -> OneWriteCycle:
        """The cycle of the request whose head `protocol` just read: the state uvicorn's
        constructor sets, set directly (its eleven keywords were a tenth of the work the
        server did for a request outside the app)."""
        cycle = cls.__new__(cls)
        cycle.scope = scope
        cycle.transport = protocol.transport
        cycle.flow = protocol.flow
        cycle.logger = protocol.logger
        cycle.access_logger = protocol.access_logger
        cycle.access_log = protocol.access_log
        cycle.default_headers = protocol.server_state.default_headers
        cycle.message_event = asyncio.Event()
        cycle.on_response = protocol.on_response_complete
        cycle.disconnected = False
        cycle.keep_alive = keep_alive
        cycle.waiting_for_100_continue = protocol.expect_100_continue
        cycle.body = bytearray()
        cycle.more_body = True
        cycle.response_started = False
        cycle.response_complete = False
        cycle.chunked_encoding = None
        cycle.expected_content_length = 0
        return cycle

    async def send(self, message: Any) -> None:
        if self.response_started:
            if self._held:
                await self._send_body(message)
            else:
                await super().send(message)
        elif not self._hold_head(message):
            await super().send(message)

    def _hold_head(self, message: Any) -> bool:
        """Builds and keeps the head of an answer of a declared length; False if the
        answer is not of that kind (nothing is changed then)."""
        if (
            message["type"] != "http.response.start"
            or self.access_log
            or self.disconnected
            or self.flow.write_paused
            or self.scope["method"] == "HEAD"
        ):
            return False
        headers = message.get("headers", ())
        # The checks uvicorn makes of each name and value, made over all of them at once.
        # Names in lower case only (as the app's own are): uvicorn's `send` writes names
        # lowered, and takes any other. (`0 in` looks for the byte; `b"\0" in` would first
        # raise and drop a TypeError, trying to read b"\0" as a number.)
        names = [name for name, _ in headers]
        joined = b"".join(names)
        if not joined.islower() or 0 in joined.translate(_NAME_CHECK):
            return False
        try:
            length = headers[names.index(_CONTENT_LENGTH)][1]
        except ValueError:
            return False
        if _TRANSFER_ENCODING in names or _CONNECTION in names or not length.isdigit():
            return False
        # A tab may stand in a value, never in a name, so it keeps the values apart.
        if 0 in b"\t".join([value for _, value in headers]).translate(_VALUE_CHECK):
            return False  # uvicorn's `send` raises its own error for it
        self.response_started = True
        self.waiting_for_100_continue = False
        self.expected_content_length = int(length)
        self.chunked_encoding = False
        content = [STATUS_LINE[message["status"]], _server_lines(self.default_headers)]
        for name, value in headers:
            content += (name, b": ", value, b"\r\n")
        content.append(b"\r\n" if self.keep_alive else b"connection: close\r\n\r\n")
        self._held = b"".join(content)
        return True

    async def _send_body(self, message: Any) -> None:
        head, self._held = self._held, b""
        body = message.get("body", b"")
        if (
            message["type"] != "http.response.body"
            or message.get("more_body", False)
            or len(body) != self.expected_content_length
            or self.disconnected
            or self.flow.write_paused
        ):
            await self._send_after(head, message)
            return
        self.expected_content_length = 0
        self.transport.write(head + body)
        self.response_complete = True
        self.message_event.set()
        if not self.keep_alive:
            self.transport.close()
        self.on_response()

    async def _send_after(self, head: bytes, message: Any) -> None:
        """uvicorn's `send` of the body, the held head written before its first bytes."""
        transport = self.transport
        prefixed = _Prefixed(transport, head)
        self.transport = prefixed  # type: ignore[assignment]
        try:
            await super().send(message)
        finally:
            self.transport = transport
            if not self.disconnected:
                prefixed.flush()  # the body wrote nothing: the head still goes out
