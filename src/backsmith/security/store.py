"""Shared state behind one small interface: remembered values that expire, and hit counters.

Every limiter and remember-cache of the security package holds a `Store`: the verified-token
memory, the one-second API-key memory, the verified http basic memory and the login limits.
`MemoryStore` keeps them in this process; a network store (Redis) implements the same
methods, which is why they are all coroutines. The interface follows Litestar's
`stores/base.py`, with counters added:

- `get(key)`, `set(key, value, expires_in)`, `delete(key)`, `delete_all()` keep values that
  expire after `expires_in` seconds. A memory store keeps the objects themselves (no copies,
  no encoding: the token memory is read on every authenticated request); a network store
  encodes them.
- `hit(limit, key)`, `allows(limit, key)` and `reset_in(limit, key)` count hits in a moving
  window, as `limits`' moving-window strategy does (`limit` is a `limits` item such as
  `parse_limit("5/minute")`). `limits` keeps the counters here in its memory storage, and
  has async Redis, Memcached and MongoDB storages with the same strategy for a network store.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Generic, TypeVar

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

V = TypeVar("V")
Limit = RateLimitItem


def parse_limit(text: str) -> Limit:
    """A limit written as `limits` reads it: `5/minute`, `100 per hour`, `10/second`."""
    return parse(text)


class Store(ABC, Generic[V]):
    """Values that expire and counters over a moving window, under string keys."""

    @abstractmethod
    async def get(self, key: str) -> V | None:
        """The value set under `key`, or None once it expired or when there is none."""

    @abstractmethod
    async def set(self, key: str, value: V, expires_in: float) -> None:
        """Keep `value` under `key` for `expires_in` seconds (nothing, when that is not > 0)."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Forget the value under `key`, if there is one."""

    @abstractmethod
    async def delete_all(self) -> None:
        """Forget every value of this store (its counters are kept)."""

    @abstractmethod
    async def hit(self, limit: Limit, key: str) -> bool:
        """Count one hit on `key` unless its window already holds `limit`'s amount; whether
        it was counted."""

    @abstractmethod
    async def allows(self, limit: Limit, key: str) -> bool:
        """Whether one more hit on `key` would be counted; counts nothing."""

    @abstractmethod
    async def reset_in(self, limit: Limit, key: str) -> float:
        """Seconds until the oldest hit on `key` leaves its window (0 with no hits)."""


class MemoryStore(Store[V]):
    """A store in this process's memory, holding at most `max_entries` values.

    When full, setting a new key drops the value set longest ago, so a flood of distinct
    keys (made-up tokens, say) costs memory up to the cap and no more.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._values: dict[str, tuple[V, float]] = {}
        self._counters: MovingWindowRateLimiter | None = None

    async def get(self, key: str) -> V | None:
        found = self._values.get(key)
        if found is None:
            return None
        if found[1] <= time.monotonic():
            self._values.pop(key, None)
            return None
        return found[0]

    async def set(self, key: str, value: V, expires_in: float) -> None:
        values = self._values
        values.pop(key, None)  # set again: it moves to the end, the newest
        if expires_in <= 0:
            return
        if len(values) >= self.max_entries:
            values.pop(next(iter(values)))
        values[key] = (value, time.monotonic() + expires_in)

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    async def delete_all(self) -> None:
        self._values.clear()

    @property
    def counters(self) -> MovingWindowRateLimiter:
        # Made on first use: limits' memory storage runs a timer thread that expires hits.
        if self._counters is None:
            self._counters = MovingWindowRateLimiter(MemoryStorage())
        return self._counters

    async def hit(self, limit: Limit, key: str) -> bool:
        return self.counters.hit(limit, key)

    async def allows(self, limit: Limit, key: str) -> bool:
        return self.counters.test(limit, key)

    async def reset_in(self, limit: Limit, key: str) -> float:
        stats = self.counters.get_window_stats(limit, key)
        if stats.remaining >= limit.amount:
            return 0.0
        return max(0.0, stats.reset_time - time.time())
