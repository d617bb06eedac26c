"""Scheduled jobs: a function of the team's run at each tick of its cron expression.

Every instance (each `serve` worker, each `backsmith relay`) keeps the same clock; at a
tick each tries to insert the row (job, tick) into the ticks table, in the transaction the
job then runs in. The primary key lets one insert win: that instance runs the job, the
others find the row taken and skip the tick. A job that fails rolls its row back, so
another instance waiting on the same key may run it; its traceback is in the log.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from croniter import croniter

from backsmith.logic.context import Bridge, Caller, Context, call
from backsmith.logic.loading import Bound
from backsmith.logic.rows import ResourceAccess
from backsmith.model.events import Schedule
from backsmith.security.tokens import Principal
from backsmith.settings import Settings
from backsmith.storage.database import Database
from backsmith.storage.event_tables import TICKS
from backsmith.storage.statements import Connection
from backsmith.storage.tables import build_table
from backsmith.storage.unit import run_unit

log = logging.getLogger("backsmith.schedules")
TICK_ROWS = build_table(TICKS, sa.MetaData())
RUNNER = f"{socket.gethostname()}:{os.getpid()}"


class Scheduler:
    """Runs each job at its ticks, once across every instance sharing the database."""

    def __init__(
        self,
        database: Database,
        jobs: Sequence[tuple[Schedule, Bound]],
        settings: Settings,
        resources: Mapping[str, ResourceAccess],
        events: Any = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.database = database
        self.jobs = list(jobs)
        self.settings = settings
        self.resources = resources
        self.events = events
        self.clock = clock
        # A job acts for the service itself: as an admin, it sees every owner's rows.
        roles = settings.admin_role_names
        self.principal = Principal("backsmith:schedule", roles, frozenset(), "schedule")

    async def run(self, stop: asyncio.Event) -> None:
        """Each job's loop until `stop` is set."""
        await asyncio.gather(*(self._loop(schedule, bound, stop) for schedule, bound in self.jobs))

    async def _loop(self, schedule: Schedule, bound: Bound, stop: asyncio.Event) -> None:
        ticks = croniter(schedule.cron, self.clock())
        while not stop.is_set():
            tick: datetime = ticks.get_next(datetime)
            wait = (tick - self.clock()).total_seconds()
            if wait > 0:
                try:
                    await asyncio.wait_for(stop.wait(), wait)
                    return  # stopped before the tick
                except TimeoutError:
                    pass
            await self.run_tick(schedule, bound, tick)

    async def run_tick(self, schedule: Schedule, bound: Bound, tick: datetime) -> bool:
        """Run the job for `tick` unless another instance has; whether this one ran it."""

        async def work(conn: Connection) -> bool:
            values = {"job": schedule.job, "tick": tick, "runner": RUNNER}
            taken = _take(conn.dialect.name).values(**values, started_at=self.clock())
            if not (await conn.execute(taken)).all():  # another instance has this tick
                return False
            ctx = self._context(schedule, conn)
            await call(bound.function, bound.is_async, ctx)
            # The job's ticks of more than a week ago are no longer raced for.
            old = TICK_ROWS.c.tick < tick - timedelta(days=7)
            await conn.execute(sa.delete(TICK_ROWS).where(TICK_ROWS.c.job == schedule.job, old))
            return True

        try:
            ran = await run_unit(self.database, work, transaction=True)
        except Exception:
            log.exception("scheduled job %s failed at %s", schedule.job, tick.isoformat())
            return False
        if ran:
            log.info("scheduled job %s ran for %s", schedule.job, tick.isoformat())
        return bool(ran)

    def _context(self, schedule: Schedule, conn: Connection) -> Context:
        return Context(
            schedule.job,
            {},
            {},
            None,
            Caller.of(self.principal),
            self.settings,
            conn,
            self.principal,
            self.resources,
            Bridge(),
            _events=self.events,
        )


def _take(dialect: str) -> Any:
    """INSERT of a tick's row that inserts nothing (and returns no row) when it is taken."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(TICK_ROWS).on_conflict_do_nothing().returning(TICK_ROWS.c.job)
