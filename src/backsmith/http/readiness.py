"""`/readyz`: every dependency the service uses, checked at once, each within a short timeout,
reported in the application/health+json shape (draft-inadarei-api-health-check).

The database is always checked; Redis when `redis_url` is set; each event broker when this
process's relay delivers to one. Each check runs concurrently, and the report is sent
after `ready_timeout_seconds` at the latest, whatever a check is still waiting for (a pool
with every connection taken, a host that drops packets): a readiness probe that hangs is
read as "down" by the orchestrator anyway, later and with no reason given.

The service cannot serve without its database, nor without Redis when rate limits count
there and fail closed: either one down is "fail", answered 503 with `Retry-After`. Redis
that fails open (limits let requests through, cached answers expire by age) and brokers
(the outbox keeps the events until they are back) are "warn" when down, answered 200, as
are operations running over their latency budget (`http.budgets`).
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Protocol
from urllib.parse import urlsplit

import sqlalchemy as sa

from backsmith.model.types import Model
from backsmith.settings import Settings
from backsmith.storage.database import Database
from backsmith.storage.pool import PoolTimeout

Report = tuple[int, dict[str, Any]]
# Broker ports when a URL names none (RabbitMQ, NATS).
_PORTS = {"amqp": 5672, "amqps": 5671, "nats": 4222, "tls": 4222}
_RANK = {"pass": 0, "warn": 1, "fail": 2}


class Probe(Protocol):
    """One check of one dependency, made for one report."""

    async def run(self) -> None:
        """Return once the dependency answered; raise why it did not."""

    def late(self, seconds: float) -> str:
        """Why it has not answered within `seconds`."""


@dataclass(frozen=True, slots=True)
class Dependency:
    """Something the service uses, and what its being down means."""

    name: str  # the check's key: database, redis, broker:<scheme://host:port>
    kind: str  # the draft's componentType: datastore or component
    required: bool  # down: the service cannot serve (fail, 503); else warn, 200
    probe: Callable[[], Probe]
    meaning: str = ""  # said after the reason when an optional one is down


class DatabaseProbe:
    """`SELECT 1` on a pooled connection, telling a full pool from a silent server."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.connected = False

    async def run(self) -> None:
        pool = self.database.pool
        raw = await pool.acquire()
        try:
            self.connected = True
            await self.database.connection(raw, False).execute(sa.text("SELECT 1"))
        finally:
            pool.release(raw)

    def late(self, seconds: float) -> str:
        """Read while the check still waits, so its own place in the pool shows."""
        if self.connected:
            return f"SELECT 1 did not answer within {seconds:g} s"
        said = f"no connection within {seconds:g} s"
        waiting = self.database.pool.waiting
        if waiting == 0:  # not queued for a connection: opening one, with room to
            return f"{said}: the database server does not answer"
        return self.exhausted(said, waiting - 1)  # the check is one of those waiting

    def exhausted(self, said: str, others: int) -> str:
        """`said`, and how many connections are taken and requests waiting."""
        in_use = self.database.pool.in_use
        return (
            f"{said}: the pool is exhausted, {in_use} connections in use and "
            f"{others} requests waiting for one"
        )


class RedisProbe:
    """A PING on a client of its own, connected for this check and closed after it."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout

    async def run(self) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # One attempt: redis-py retries a refused connection by default, with backoff.
        client = Redis.from_url(
            self.url,
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            await client.ping()
        finally:
            await client.aclose()

    def late(self, seconds: float) -> str:
        return f"no answer to PING within {seconds:g} s"


class ReachableProbe:
    """A TCP connection to a broker's host and port, closed at once: a publish would need
    a connection there first, and this costs the broker no session of ours."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    async def run(self) -> None:
        _, writer = await asyncio.open_connection(self.host, self.port)
        writer.close()
        await writer.wait_closed()

    def late(self, seconds: float) -> str:
        return f"no connection within {seconds:g} s"


def dependencies(
    model: Model, settings: Settings, database: Callable[[], Database]
) -> list[Dependency]:
    """What this process uses, as the model and the settings say."""
    found = [Dependency("database", "datastore", True, lambda: DatabaseProbe(database()))]
    if settings.redis_url:
        closed = model.counts_callers and settings.rate_limit_failure == "closed"
        probe = functools.partial(RedisProbe, settings.redis_url, settings.ready_timeout_seconds)
        meaning = "rate limits let requests through and cached answers expire by age"
        found.append(Dependency("redis", "datastore", closed, probe, meaning))
    if settings.relay and model.events.publishes:
        for url in settings.broker_urls:
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            host, port = parts.hostname or "localhost", parts.port or _PORTS.get(scheme, 0)
            found.append(
                Dependency(
                    f"broker:{scheme}://{host}:{port}",
                    "component",
                    False,
                    functools.partial(ReachableProbe, host, port),
                    "events wait in the outbox until it is back",
                )
            )
    return found


class Readiness:
    """The report `/readyz` answers, from checks chosen once at start-up."""

    def __init__(
        self,
        checked: list[Dependency],
        timeout: float,
        revision: Callable[[], str | None] = lambda: None,
        latency: Callable[[], dict[str, list[Any]]] = dict,
    ) -> None:
        self.checked = checked
        self.timeout = timeout
        self.revision = revision  # the migration the database is at (None: none recorded)
        self.latency = latency  # the operations over their latency budget

    async def report(self) -> Report:
        """(status code, application/health+json body); never later than the timeout."""
        probes = [dependency.probe() for dependency in self.checked]
        tasks = [asyncio.ensure_future(_timed(probe)) for probe in probes]
        if tasks:
            # Not `wait_for` on each: it waits for a cancelled check to finish stopping,
            # which a driver may take its time over. These are dropped, their end unread.
            await asyncio.wait(tasks, timeout=self.timeout)
        checks: dict[str, list[Any]] = {}
        for dependency, probe, task in zip(self.checked, probes, tasks, strict=True):
            if task.done():
                milliseconds, error = task.result()
                output = _failure(error, probe) if error is not None else None
            else:
                milliseconds, output = self.timeout * 1000, probe.late(self.timeout)
                task.cancel()
                task.add_done_callback(_ignored)
            checks[dependency.name] = [_entry(dependency, milliseconds, output)]
        checks.update(self.latency())
        worst = max((_RANK[entry[0]["status"]] for entry in checks.values()), default=0)
        status = next(name for name, rank in _RANK.items() if rank == worst)
        body = {"status": status, "revision": self.revision(), "checks": checks}
        return (503 if status == "fail" else 200), body


async def _timed(probe: Probe) -> tuple[float, BaseException | None]:
    """How long the probe took, in ms, and why it failed (None: it passed)."""
    start = perf_counter()
    try:
        await probe.run()
    except Exception as error:
        return (perf_counter() - start) * 1000, error
    return (perf_counter() - start) * 1000, None


def _entry(dependency: Dependency, milliseconds: float, output: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "componentType": dependency.kind,
        "status": "pass",
        "observedValue": round(milliseconds, 3),
        "observedUnit": "ms",
    }
    if output is not None:
        entry["status"] = "fail" if dependency.required else "warn"
        entry["output"] = f"{output}; {dependency.meaning}" if dependency.meaning else output
    return entry


def _failure(error: BaseException, probe: Probe) -> str:
    """What went wrong, without the address, user or password a driver's message holds."""
    if isinstance(error, PoolTimeout) and isinstance(probe, DatabaseProbe):
        # "no database connection free within 5 s"; the check has left the queue already
        return probe.exhausted(str(error), probe.database.pool.waiting)
    return reason(error)


def reason(error: BaseException) -> str:
    """The error's kind, and the system's word for a failed connection (`Connection
    refused`) or the database's SQLSTATE where either is behind it."""
    said = type(error).__name__
    seen: BaseException | None = error
    while seen is not None:
        errno = getattr(seen, "errno", None)
        if isinstance(seen, socket.gaierror):  # its own words name no host
            return f"{said} ({seen.strerror})"
        if isinstance(seen, OSError) and isinstance(errno, int) and errno > 0:
            # Not the message: asyncio's "Connect call failed" names the address.
            return f"{said} ({os.strerror(errno)})"
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str) and state:
            return f"{said} (SQLSTATE {state})"
        seen = seen.__cause__ or seen.__context__
    return said


def _ignored(task: asyncio.Future[Any]) -> None:
    """Read a dropped check's end, so asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()


Ready = Callable[[], Awaitable[Report]]

__all__ = ["Dependency", "Readiness", "Ready", "Report", "dependencies", "reason"]
