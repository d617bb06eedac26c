"""Caching: `x-backsmith: {cache: 30s}` keeps a read's encoded answers in the process.

An answer is kept under its path, query and host (and its caller, when what it shows
depends on who asks) for the declared age at most, and sent with `Cache-Control` and, when
it comes from the store, `Age`. Every table carries a generation here; an answer is kept
with the generations of the tables it was read from, and is good only while they stand.
A write bumps the generations of the tables it may touch once it has committed, before
its answer leaves, so the writer's own next read is fresh; the bump is published over
Redis (when `BACKSMITH_REDIS_URL` is set) so every other worker and instance drops them
too. Should a message be lost, an answer still never outlives its declared age.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, fields, is_dataclass
from typing import TYPE_CHECKING, Any, Protocol

from backsmith.http.request import Request
from backsmith.http.response import NO_STORE, Response
from backsmith.http.types import Scope
from backsmith.model.hops import Hop
from backsmith.model.types import ItemShape, Kind, Model, Operation
from backsmith.observe.metrics import metrics, operation_of

if TYPE_CHECKING:  # the pipeline lists this step: its types are only named here
    from backsmith.http.pipeline import Endpoint

log = logging.getLogger("backsmith")
READS = frozenset({Kind.READ, Kind.LIST})


class Generations:
    """Each table's count of committed writes, as this process has heard of them."""

    __slots__ = ("_of",)

    def __init__(self) -> None:
        self._of: dict[str, int] = {}

    def snapshot(self, tables: tuple[str, ...]) -> tuple[int, ...]:
        of = self._of
        return tuple([of.get(table, 0) for table in tables])

    def bump(self, tables: tuple[str, ...] | list[str]) -> None:
        of = self._of
        for table in tables:
            of[table] = of.get(table, 0) + 1


@dataclass(slots=True)
class Entry:
    expires: float  # time.monotonic()
    stored: float
    generations: tuple[int, ...]
    response: Response


class Store:
    """The answers kept by this process, the oldest dropped first past `capacity`."""

    def __init__(self, capacity: int, generations: Generations | None = None) -> None:
        self.capacity = capacity
        self.generations = generations or Generations()
        self.entries: dict[Any, Entry] = {}
        self.hits = 0  # for the metrics to come, and the tests
        self.broadcast: Any = None  # set when several processes share one Redis

    def put(self, key: Any, entry: Entry) -> None:
        entries = self.entries
        entries.pop(key, None)  # re-inserted at the end: the newest
        if len(entries) >= self.capacity:
            del entries[next(iter(entries))]
        entries[key] = entry

    async def invalidate(self, tables: tuple[str, ...]) -> None:
        """Drop what these tables' rows fed, here at once and elsewhere soon after."""
        self.generations.bump(tables)
        if self.broadcast is not None:
            await self.broadcast.publish(tables)


@dataclass(frozen=True, slots=True)
class ReadCache:
    """How one read operation caches: its age, its tables, whether keyed by caller."""

    seconds: int
    tables: tuple[str, ...]
    per_caller: bool
    store: Store

    @property
    def control(self) -> bytes:
        return f"max-age={self.seconds}".encode()


class Cached(Protocol):
    """The facts the cache step reads."""

    operation: Operation
    cache: ReadCache | None
    invalidates: tuple[str, ...]
    invalidation: Store | None


def caching(plan: Cached, next_step: Endpoint) -> Endpoint | None:
    """Answer a cached read from the store; after a write, drop what it made stale."""
    if plan.cache is not None:
        return _cached(plan.cache, next_step, operation_of(plan))
    store = plan.invalidation
    if store is None or not plan.invalidates:
        return None
    tables = plan.invalidates
    invalidate = store.invalidate

    async def invalidating(request: Request) -> Response:
        try:
            return await next_step(request)
        finally:  # committed or not: a needless bump costs a read, a missing one a stale one
            await invalidate(tables)

    return invalidating


def _cached(cache: ReadCache, next_step: Endpoint, operation: str) -> Endpoint:
    store, tables, seconds = cache.store, cache.tables, cache.seconds
    entries, snapshot = store.entries, store.generations.snapshot
    public = (b"cache-control", cache.control)
    private = (b"cache-control", b"private, " + cache.control)
    per_caller = cache.per_caller
    found = metrics()
    hit, missed = found.cache_hits.labels(operation), found.cache_misses.labels(operation)

    async def cached(request: Request) -> Response:
        scope = request.scope
        principal = request.principal
        caller = None
        if per_caller and principal is not None:
            caller = (principal.subject, principal.roles)
        key = (scope.get("raw_path") or scope["path"], scope["query_string"], _host(scope), caller)
        now = time.monotonic()
        entry = entries.get(key)
        if entry is not None and entry.expires > now and entry.generations == snapshot(tables):
            store.hits += 1
            hit.inc()
            kept = entry.response
            headers = [*kept.headers, (b"age", str(int(now - entry.stored)).encode())]
            return Response(kept.status, kept.body, kept.media_type, headers)
        missed.inc()
        before = snapshot(tables)  # taken before the read: a write meanwhile outdates it
        response = await next_step(request)
        if response.status == 200:
            response.headers.append(private if principal is not None else public)
            kept = Response(200, response.body, response.media_type, list(response.headers))
            store.put(key, Entry(now + seconds, now, before, kept))
        elif principal is not None:  # as every answer for one caller is, when not kept
            response.headers.append(NO_STORE)
        return response

    return cached


def _host(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"host":
            return bytes(value)
    return None


def tables_of(operation: Operation, model: Model) -> frozenset[str]:
    """Every table an operation's rows, embeds, counts, filters and owner rules reach."""
    found: set[str] = set()
    if operation.resource is not None:
        table = model.resources[operation.resource].table
        found.add(table)
        owner = model.owners.get(table)
        if owner is not None:
            _walk(owner, model, found, set())
    _walk(operation, model, found, set())
    return frozenset(found)


def _walk(node: Any, model: Model, found: set[str], seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, Hop):
        found.update(t for t in (node.source, node.target, node.join) if t)
        return
    if isinstance(node, ItemShape):
        resource = model.resources.get(node.resource)
        if resource is not None:
            found.add(resource.table)
    if isinstance(node, tuple | list | frozenset | set):
        for item in node:
            _walk(item, model, found, seen)
    elif isinstance(node, dict):
        for item in node.values():
            _walk(item, model, found, seen)
    elif is_dataclass(node) and not isinstance(node, type):
        for field in fields(node):
            _walk(getattr(node, field.name), model, found, seen)


class RedisBroadcast:
    """Invalidations published to, and heard from, every process on one Redis."""

    CHANNEL = "backsmith:invalidate"

    def __init__(self, url: str, generations: Generations) -> None:
        import secrets

        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        # The listener waits for messages as long as there are none: no read timeout.
        self._listener = Redis.from_url(url, socket_connect_timeout=0.5, health_check_interval=30)
        self._generations = generations
        self._me = secrets.token_hex(8)  # its own messages are bumped already
        self._task: asyncio.Task[None] | None = None
        self._warned: dict[str, float] = {}  # when each kind of trouble was last logged

    async def publish(self, tables: tuple[str, ...]) -> None:
        try:
            await self._redis.publish(self.CHANNEL, f"{self._me} {','.join(tables)}")
        except Exception as error:  # Redis down: the others' answers expire by age
            self._warn("could not publish a cache invalidation", error)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._redis.aclose()
        await self._listener.aclose()

    async def _listen(self) -> None:
        while True:
            try:
                async with self._listener.pubsub() as pubsub:
                    await pubsub.subscribe(self.CHANNEL)
                    async for message in pubsub.listen():
                        self._heard(message)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._warn("lost the cache invalidation channel; listening again in 1 s", error)
                await asyncio.sleep(1.0)

    def _heard(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        sender, _, tables = bytes(message["data"]).decode().partition(" ")
        if sender != self._me and tables:
            self._generations.bump(tables.split(","))

    def _warn(self, what: str, error: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned.get(what, -10.0) >= 10.0:
            self._warned[what] = now
            log.warning("%s (%s); cached answers expire by their age", what, error)
