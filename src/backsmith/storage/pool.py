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
    pop, releasing one a list append, with no task or timer per request.
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
        self._waiters: deque[asyncio.Future[Any]] = deque()
        self._open = 0

    @property
    def in_use(self) -> int:
        """Connections open and handed out (metrics and /readyz read it)."""
        return self._open - len(self._idle)

    @property
    def waiting(self) -> int:
        """Requests waiting for a connection to be handed back."""
        return sum(1 for waiter in self._waiters if not waiter.done())

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
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout(self.timeout):
                    connection = await waiter
            except (asyncio.CancelledError, TimeoutError) as error:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    self.release(waiter.result())
                if isinstance(error, TimeoutError):
                    raise PoolTimeout(
                        f"no database connection free within {self.timeout} s"
                    ) from None
                raise
            if connection is not None:
                return connection
            # None: a connection was dropped, so there is room to open another.

    def release(self, connection: Any) -> None:
        if not self._healthy(connection):
            self._open -= 1
            self._closer(connection)
            connection = None
        while self._waiters:
            waiter = self._waiters.popleft()
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
