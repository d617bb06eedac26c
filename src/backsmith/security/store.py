"""Remembered values that expire, behind one small interface.

Every remember-cache of the security package holds a `Store`: the verified-token memory,
the one-second API-key memory and the verified http basic memory. `MemoryStore` keeps them
in this process; a network store implements the same methods, which is why they are all
coroutines. The interface follows Litestar's `stores/base.py`. (Hit counters, which must
be shared by every worker to hold, are `policies.counters`.)

- `get(key)`, `set(key, value, expires_in)`, `delete(key)`, `delete_all()` keep values that
  expire after `expires_in` seconds. A memory store keeps the objects themselves (no copies,
  no encoding: the token memory is read on every authenticated request); a network store
  encodes them.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Generic, TypeVar

V = TypeVar("V")


class Store(ABC, Generic[V]):
    """Values that expire, under string keys."""

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
        """Forget every value of this store."""


class MemoryStore(Store[V]):
    """A store in this process's memory, holding at most `max_entries` values.

    When full, setting a new key drops the value set longest ago, so a flood of distinct
    keys (made-up tokens, say) costs memory up to the cap and no more.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._values: dict[str, tuple[V, float]] = {}

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
