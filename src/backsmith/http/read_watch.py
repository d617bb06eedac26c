"""The timers of a loop's connections, kept by one watch instead of one per request.

uvicorn waits for ever for a request's head on a new connection (its keep-alive timer runs
only between requests), so a thousand clients that connect and send a byte now and then
would hold the server. Each request's head here has `read_timeout_seconds` from its first
byte (or from the connection), its body as long from its last progress; then 408 and the
connection closed. A connection idle between requests for longer than its keep-alive is
closed (up to a period late: uvicorn's 5 s may be up to 6).

A timer per request would be made and cancelled on every request of a busy connection;
here a request only notes the time its head began and its body moved.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar, Protocol

from backsmith.http.refusals import read_timeout


class Watched(Protocol):
    """What the watch reads of a connection, and what it tells it."""

    head_since: float | None
    body_since: float | None
    idle_since: float | None
    read_paused: bool
    timeout_keep_alive: float

    def head_too_slow(self) -> None: ...

    def body_too_slow(self) -> None: ...

    def kept_too_long(self) -> None: ...


class ReadWatch:
    """The open connections of one event loop, looked at a few times each timeout."""

    _watches: ClassVar[dict[asyncio.AbstractEventLoop, ReadWatch]] = {}

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.timeout = read_timeout()
        self.connections: set[Watched] = set()
        self.timer: asyncio.TimerHandle | None = None

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> ReadWatch:
        watch = cls._watches.get(loop)
        if watch is None:
            watch = cls._watches[loop] = cls(loop)
        return watch

    def add(self, connection: Watched) -> None:
        self.connections.add(connection)
        if self.timer is None:
            self.timer = self.loop.call_later(self.period, self.look)

    def discard(self, connection: Watched) -> None:
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
            elif (connection.body_since or late) < late and not connection.read_paused:
                connection.body_too_slow()
            elif (idle := connection.idle_since) is not None and (
                idle < now - connection.timeout_keep_alive
            ):
                connection.kept_too_long()
        if self.connections:
            self.timer = self.loop.call_later(self.period, self.look)
        else:  # looked at again by the next connection (a loop of a test may be gone)
            del self._watches[self.loop]
