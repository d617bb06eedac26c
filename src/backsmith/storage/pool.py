"""The pool of one database's serving connections, opened when first needed."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any


class PoolTimeout(TimeoutError):
    """Every connection stayed busy for longer than the pool's timeout."""


class Pool:
    """Up to `size` connections, opened when first needed, handed to waiters in turn.

    Smaller than the drivers' own pools on purpose: acquiring an idle connection is a list
    pop, releasing one a list append, with no task or timer per request, not even for a
    request that waits.
    """

    def __init__(
        self,
        size: int,
        opener: Callable[[], Any],
        healthy: Callable[[Any], bool],
        closer: Callable[[Any], Any],
        timeout: float | None = None,
    ) -> None:
        self._size = size
        # Seconds a request waits for a connection before it is answered 503 (None: for ever):
        # a held lock that keeps every connection busy must not stall every request.
        self.timeout = timeout
        self._opener = opener
        self._healthy = healthy
        self._closer = closer
        self._idle: list[Any] = []
        # Each waiter with the loop time it gives up at, oldest first; `_expire` looks at
        # them a few times each timeout, so waiting sets no timer of its own.
        self._waiters: deque[tuple[float, asyncio.Future[Any]]] = deque()
        self._expiry: asyncio.TimerHandle | None = None
        self._expiry_loop: asyncio.AbstractEventLoop | None = None
        self._open = 0

    @property
    def size(self) -> int:
        """The most connections it opens (metrics read it)."""
        return self._size

    @property
    def in_use(self) -> int:
        """Connections open and handed out (metrics and /readyz read it)."""
        return self._open - len(self._idle)

    @property
    def waiting(self) -> int:
        """Requests waiting for a connection to be handed back."""
        return sum(1 for _, waiter in self._waiters if not waiter.done())

    async def acquire(self) -> Any:
        while True:
            if self._idle:
                return self._idle.pop()
            if self._open < self._size:
                self._open += 1
                try:
                    return await self._opener()
                except BaseException:
                    self._open -= 1
                    raise
            loop = asyncio.get_running_loop()
            waiter = loop.create_future()
            timeout = self.timeout
            self._waiters.append((loop.time() + timeout if timeout is not None else 0.0, waiter))
            if timeout is not None and (self._expiry is None or self._expiry_loop is not loop):
                self._expiry = loop.call_later(self._period(timeout), self._expire, loop)
                self._expiry_loop = loop
            try:
                connection = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    self.release(waiter.result())
                raise
            if connection is not None:
                return connection
            # None: a connection was dropped, so there is room to open another.

    @staticmethod
    def _period(timeout: float) -> float:
        return min(0.25, max(timeout / 4, 0.01))

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        """Waiters past their time are told so (503 upstream); served ones are forgotten."""
        self._expiry = None
        now = loop.time()
        waiters = self._waiters
        while waiters and (waiters[0][1].done() or 0.0 < waiters[0][0] <= now):
            _, waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_exception(
                    PoolTimeout(f"no database connection free within {self.timeout} s")
                )
        if waiters and self.timeout is not None:
            self._expiry = loop.call_later(self._period(self.timeout), self._expire, loop)

    def release(self, connection: Any) -> None:
        if not self._healthy(connection):
            self._open -= 1
            self._closer(connection)
            connection = None
        while self._waiters:
            _, waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if connection is not None:
            self._idle.append(connection)

    def drain(self) -> list[Any]:
        """Forget every idle connection (for closing); waiters will open new ones."""
        idle, self._idle = self._idle, []
        self._open -= len(idle)
        return idle
