"""Hit counters shared by every worker and instance: in this process, or in Redis.

Rate limits and the accounts' login limits count here. Built on `limits`: its storages
(memory, or Redis through redis-py's asyncio client) and its sliding-window counter, two
counts per key (this window's and the last one's, weighted by how much of it still lies
within a window's length), checked and counted in one atomic step (one Lua script on
Redis). It costs the same whatever the limit: `limits`' moving window keeps every hit and
reads through them on each request, and a fixed window lets twice the limit through
across a boundary. A burst is counted exactly; across a window's boundary the weighting
is an approximation, at most one hit off. Each key expires with its window, so a lost
process never leaves a counter that locks a caller out.

`Retry-After` is worked out here from the two counts: the first moment the weighted count
lets one more hit in, never earlier (`limits`' own reset time is the current window's
end, which the last window's weight may outlast).

A call to Redis costs a request more than the rest of its work, so a busy key takes its
units in blocks: a process that used up its last block quickly counts the next one as
several hits at once, then hands them out itself until the block or the window ends.
Blocks double while they go fast and halve while they go slowly, from one hit, and stay
under a twentieth of what is left, so a quiet key and a key near its limit are counted
hit by hit, exactly; units a process holds count as spent for the others, so the limit
is never exceeded, and a block left unused when its window ends is lost to it. While one
request of a process takes the next block, the others wait for it rather than each taking
one of their own; a window found full is remembered until one more hit would fit, so a
flood of refused requests costs the store nothing.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import cast

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.storage.base import SlidingWindowCounterSupport
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from backsmith.events.message import masked

Limit = RateLimitItem
# How long one call to Redis may take, connecting included, before it counts as down.
REDIS_TIMEOUT_S = 0.5
# A block used up faster than this is doubled next time, one slower than `SLOW_S` halved.
FAST_S, SLOW_S = 0.1, 1.0
MAX_BLOCK = 1000
MAX_KEYS = 10_000  # keys whose last block this process remembers


def parse_limit(text: str) -> Limit:
    """A limit written as `limits` reads it: `5/minute`, `100 per hour`, `10/second`."""
    return parse(text)


class CountersDown(Exception):
    """The shared counters cannot be reached (Redis down, or too slow)."""


@dataclass(slots=True)  # not frozen: a frozen dataclass costs three times as much to make
class Count:
    """A hit's outcome: whether it was counted, what is left and when more returns."""

    allowed: bool
    remaining: int
    # with units left, seconds until this window's hits begin to leave; with none, until
    # one more hit is let in (0: nothing counted)
    reset_s: float


@dataclass(slots=True)
class _Block:
    """Units of one key this process took at once and hands out itself."""

    units: int  # not handed out yet
    size: int  # how many were taken
    left: int  # what the store had left for everyone once they were taken
    until: float  # monotonic end of their window: unused units are dropped then
    taken: float  # monotonic time they were taken


class Counters:
    """Sliding-window counters under string keys; `shared` when other processes see them."""

    def __init__(self, redis_url: str = "") -> None:
        self.shared = bool(redis_url)
        self.where = masked(redis_url) if redis_url else "this process's memory"
        storage: Storage
        if redis_url:
            storage = RedisStorage(
                "async+" + redis_url,
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix="backsmith",
                socket_timeout=REDIS_TIMEOUT_S,
                socket_connect_timeout=REDIS_TIMEOUT_S,
            )
        else:
            storage = MemoryStorage()
        self.storage = storage
        self.windows = cast(SlidingWindowCounterSupport, storage)
        self.limiter = SlidingWindowCounterRateLimiter(storage)
        self._blocks: dict[str, _Block] = {}
        # `limits`' key of (limit, key), by the limit's id: a limit hashes in Python, on
        # every hit. The limits are kept here, so no id is another's while it is used.
        self._names: dict[tuple[int, str], str] = {}
        self._limits: dict[int, Limit] = {}
        self._taking: dict[str, asyncio.Future[None]] = {}  # blocks being taken, by key

    def take_held(self, limit: Limit, key: str) -> Count | None:
        """A hit counted from the units this process holds for `key`, or refused while its
        window is known to be full; None when the store must be asked (`take`). No
        coroutine for the usual hit: most hits of a busy key end here."""
        name = self._names.get((id(limit), key))
        return None if name is None else self._held(name)

    def _held(self, name: str) -> Count | None:
        """`take_held` of `limits`' key `name`."""
        block = self._blocks.get(name)
        if block is None:
            return None
        now = time.monotonic()
        if now >= block.until:
            return None
        if block.units > 0:
            block.units -= 1
            return Count(True, block.left + block.units, block.until - now)
        if block.size == 0:  # the window was full: no hit fits before `until`
            return Count(False, 0, block.until - now)
        return None

    async def take(self, limit: Limit, key: str) -> Count:
        """Count one hit on `key` unless its window is full."""
        name = self._names.get((id(limit), key))
        if name is None:
            if len(self._names) >= MAX_KEYS:
                self._names.clear()
            self._limits[id(limit)] = limit
            name = self._names[(id(limit), key)] = limit.key_for(key)
        while (held := self._held(name)) is None:
            taking = self._taking.get(name)
            if taking is None:
                break
            # Another request of this process is taking the next block: share it, rather
            # than each taking (and all but one losing) a block of their own.
            await asyncio.shield(taking)
        if held is not None:
            return held
        now = time.monotonic()
        block = self._blocks.get(name)
        taken = self._taking[name] = asyncio.get_running_loop().create_future()
        try:
            return await self._take_block(limit, key, name, block, now)
        finally:
            del self._taking[name]
            taken.set_result(None)

    async def _take_block(
        self, limit: Limit, key: str, name: str, block: _Block | None, now: float
    ) -> Count:
        """Take the next block of `key`'s units from the store; this hit is its first."""
        size = _next_size(block, now, limit.amount)
        try:
            allowed = await self.limiter.hit(limit, key, cost=size)
            if not allowed and size > 1:  # near the limit: one hit may still fit
                size = 1
                allowed = await self.limiter.hit(limit, key)
            remaining, reset, ends = await self._state(limit, key)
        except Exception as error:  # limits wraps every storage error; a timeout too
            raise CountersDown(f"rate-limit counters at {self.where}: {error}") from None
        if not allowed:  # remembered until one more hit fits, which no process changes
            self._blocks[name] = _Block(0, 0, 0, now + reset, now)
            return Count(False, remaining, reset)
        blocks = self._blocks
        blocks.pop(name, None)  # taken again: it moves to the end, the newest
        if len(blocks) >= MAX_KEYS:  # a flood of callers costs memory up to the cap
            blocks.pop(next(iter(blocks)))
        blocks[name] = _Block(size - 1, size, remaining, now + ends, now)
        return Count(True, remaining + size - 1, reset if remaining else ends)

    async def allows(self, limit: Limit, key: str) -> bool:
        """Whether one more hit on `key` would be counted; counts nothing."""
        try:
            return (await self._state(limit, key))[0] > 0
        except Exception as error:
            raise CountersDown(f"rate-limit counters at {self.where}: {error}") from None

    async def hit(self, limit: Limit, key: str) -> bool:
        """Count one hit on `key` unless its window is full; whether it was counted."""
        return (await self.take(limit, key)).allowed

    async def reset_in(self, limit: Limit, key: str) -> float:
        """Seconds until one more hit on `key` would be counted (0: it would be now)."""
        try:
            remaining, reset, _ = await self._state(limit, key)
        except Exception as error:
            raise CountersDown(f"rate-limit counters at {self.where}: {error}") from None
        return 0.0 if remaining > 0 else reset

    async def _state(self, limit: Limit, key: str) -> tuple[int, float, float]:
        """(units left, `Count.reset_s`, seconds until this window ends) of `key` now."""
        length = limit.get_expiry()
        last, last_left, this, this_left = await self.windows.get_sliding_window(
            limit.key_for(key), length
        )
        return window_state(limit.amount, length, last, last_left, this, this_left)

    async def check(self) -> bool:
        """Whether the store answers (for /readyz)."""
        try:
            return bool(await self.storage.check())
        except Exception:
            return False

    async def close(self) -> None:
        """Let go of the connections to Redis, if any."""
        bridge = getattr(self.storage, "bridge", None)
        client = getattr(bridge, "storage", None)
        if client is not None:
            await client.aclose()


def _next_size(block: _Block | None, now: float, amount: int) -> int:
    """How many units to take at once after `block`: see the module's docstring."""
    if block is None:
        return 1
    size = block.size
    spent = now - block.taken
    if spent < FAST_S:
        size *= 2
    elif spent > SLOW_S:
        size //= 2
    return max(1, min(size, MAX_BLOCK, block.left // 20, amount // 20))


def window_state(
    amount: int, length: float, last: int, last_left: float, this: int, this_left: float
) -> tuple[int, float, float]:
    """(units left, `Count.reset_s`, seconds until this window ends) from a sliding
    window's two counts.

    `last_left` is how much of the last window still weighs (its count times
    `last_left / length`), `this_left - length` how long this window runs on: then its
    count becomes the last one's and starts to weigh less.
    """
    ends = max(0.0, this_left - length)
    if not (last or this):
        return amount, 0.0, ends
    remaining = max(0, amount - math.floor(last * last_left / length) - this)
    if remaining > 0:
        return remaining, ends, ends
    room = amount - 1 - this  # how much of the last window's weight one more hit needs gone
    if last and room >= 0:
        wait = last_left - (room + 1) * length / last
        if wait < ends:
            return 0, max(0.0, wait) + 0.001, ends
    # this window must end and weigh less: its count times what is left must fall under amount
    return 0, ends + max(0.0, length * (1 - amount / this)) + 0.001, ends
