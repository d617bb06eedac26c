"""The work that runs beside the requests: the relay of events and the scheduled jobs.

`serve` runs it in every worker unless `BACKSMITH_RELAY=false`; `backsmith relay` runs it
as a process of its own. Either way several of them share the work safely: the relay's
claims never overlap, and each tick of a job runs once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Mapping

import sqlalchemy as sa

from backsmith.events.recorder import Emitter, recorders, targets_of
from backsmith.events.relay import Policy, Relay, Sender
from backsmith.events.schedules import Scheduler
from backsmith.events.webhooks import WebhookSender, webhook_secret
from backsmith.http.handled import resource_access
from backsmith.logic.loading import Bound, load_schedules
from backsmith.model.events import Schedule
from backsmith.model.types import Model
from backsmith.settings import Settings
from backsmith.storage.database import Database, Waits

log = logging.getLogger("backsmith.events")


def senders_for(model: Model, settings: Settings) -> list[Sender]:
    """A sender per target the settings name: webhooks first, then brokers."""
    targets = targets_of(model, settings)
    if not targets:
        return []
    senders: list[Sender] = []
    if settings.webhook_urls:
        secret = webhook_secret(settings)
        senders += [WebhookSender(url, secret) for url in settings.webhook_urls]
    if settings.broker_urls:
        from backsmith.events.brokers import broker_publisher

        senders += [broker_publisher(url) for url in settings.broker_urls]
    return senders


def policy_of(settings: Settings) -> Policy:
    backoff = settings.event_backoff_ms / 1000
    # Looked for at least four times per first wait, so short waits are kept to.
    return Policy(
        attempts=settings.event_attempts,
        backoff=backoff,
        poll=min(0.25, backoff / 4),
        retention=settings.event_retention_days * 86400.0,
    )


class Background:
    """The relay and the scheduler of one process, started and stopped together."""

    def __init__(
        self,
        model: Model,
        settings: Settings,
        database: Database,
        tables: Mapping[str, sa.Table],
        policy: Policy | None = None,
        jobs: list[tuple[Schedule, Bound]] | None = None,
    ) -> None:
        self.relay: Relay | None = None
        self.scheduler: Scheduler | None = None
        senders = senders_for(model, settings)
        if senders:
            self.relay = Relay(database, senders, policy or policy_of(settings))
        jobs = load_schedules(model, settings) if jobs is None else jobs
        if jobs:
            events = Emitter(model, settings)
            resources = resource_access(model, dict(tables), settings, recorders(model, settings))
            self.scheduler = Scheduler(database, jobs, settings, resources, events)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def idle(self) -> bool:
        return self.relay is None and self.scheduler is None

    def start(self) -> None:
        self._stop.clear()
        if self.relay is not None:
            names = ", ".join(self.relay.senders)
            log.info("event relay delivering to %s", names)
            self._tasks.append(asyncio.create_task(self.relay.run(self._stop)))
        if self.scheduler is not None:
            jobs = ", ".join(f"{s.job} ({s.cron})" for s, _ in self.scheduler.jobs)
            log.info("scheduled jobs: %s", jobs)
            self._tasks.append(asyncio.create_task(self.scheduler.run(self._stop)))

    async def stop(self) -> None:
        """Let a pass in flight finish its delivery (bounded), then close the senders."""
        self._stop.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=10)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._tasks.clear()
        if self.relay is not None:
            await self.relay.close()


async def run_alone(
    model: Model, settings: Settings, until: Callable[[], bool] | None = None
) -> None:
    """`backsmith relay`: the background work on its own, until SIGINT or SIGTERM (or
    `until()` is true, checked every tenth of a second)."""
    from backsmith.storage.engine import dialect_for
    from backsmith.storage.tables import build_metadata

    tables = {table.name: table for table in build_metadata(model).tables.values()}
    url = settings.database_url
    database = Database.for_url(
        url,
        dialect_for(url),
        pool_size=settings.pool_size,
        waits=Waits.of(settings),  # the bounds `serve` keeps, as the settings say
        pgbouncer=settings.pgbouncer,  # no prepared statements through transaction pooling
    )
    background = Background(model, settings, database, tables)
    if background.idle:
        log.warning("nothing to do: no webhook or broker to deliver to, no scheduled job")
        return
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(RuntimeError, ValueError):  # not the main thread: no signals
            loop.add_signal_handler(signum, stop.set)
    background.start()
    try:
        while not stop.is_set() and not (until is not None and until()):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)
    finally:
        await background.stop()
        await database.close()
