"""The ASGI application: the layers of `http.stack` around a router of compiled chains."""

from __future__ import annotations

import asyncio
import gc
import logging
import resource
from typing import TYPE_CHECKING

import sqlalchemy as sa

from backsmith.events.background import Background
from backsmith.http.budgets import latency_checks
from backsmith.http.cache_plans import plan_caches
from backsmith.http.handled import HandledPlan, handle_handled
from backsmith.http.handlers.registry import handler_for
from backsmith.http.handlers.versions import plan_preconditions
from backsmith.http.kind_plans import compile_plans
from backsmith.http.ops import ops_endpoints
from backsmith.http.pipeline import build_chain
from backsmith.http.readiness import Readiness, dependencies
from backsmith.http.routing import Router
from backsmith.http.stack import build_stack, security_headers
from backsmith.http.types import Receive, Scope, Send
from backsmith.logic.loading import load_schedules
from backsmith.model.servers import base_path_for, served_path
from backsmith.model.types import Model
from backsmith.observe.metrics import metrics, metrics_endpoint, publish
from backsmith.observe.request_log import flush_request_logs
from backsmith.observe.tracing import open_tracing
from backsmith.policies.caching import RedisBroadcast
from backsmith.policies.counters import Counters
from backsmith.security.exposure import report_findings
from backsmith.security.tokens import TokenVerifier
from backsmith.settings import Settings
from backsmith.storage.database import Database, Waits
from backsmith.storage.engine import dialect_for, make_engine
from backsmith.storage.schema import prepare_database
from backsmith.storage.tables import build_metadata

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("backsmith")


class BacksmithApp:
    """An ASGI app serving one model; the database is opened in the lifespan."""

    def __init__(self, model: Model, settings: Settings, engine: AsyncEngine | None = None) -> None:
        self.model = model
        self.settings = settings
        self.metadata = build_metadata(model)
        self._engine = engine
        self._owns_engine = engine is None
        self._database: Database | None = None
        # The process's OpenTelemetry tracing; None (and nothing of it imported) when off.
        self.tracing = open_tracing(model, settings)
        # True when whoever built the app prepared the tables already (serve's preflight).
        self.tables_ready = False
        # The migration revision the database is at, for /readyz (None: it records none).
        self.schema_revision: str | None = None
        self.router = Router()
        tables = {table.name: table for table in self.metadata.tables.values()}

        def database() -> Database:  # the pipeline and plans reach the database only so
            return self.database

        # Rate limits and login limits count here: in Redis, shared by every worker and
        # instance, when one is set.
        self.counters = Counters(settings.redis_url)
        self.plans = compile_plans(model, settings, tables, database, self.counters)
        plan_preconditions(self.plans)
        # Kept answers of cached reads, dropped by writes here and, over Redis, elsewhere.
        self.cache = plan_caches(self.plans, model, settings)
        self._tables = tables
        # Scheduled jobs imported now, so one that cannot be is a start-up error (exit 2).
        self._jobs = load_schedules(model, settings)
        self.background: Background | None = None  # the relay and scheduled jobs, once started
        report_findings(model, self.plans, settings, log.warning)  # base path ones too
        _announce_base_path(model, settings)
        # What /readyz checks: the database, Redis and brokers this process uses, and the
        # operations running over their latency budget.
        self.readiness = Readiness(
            dependencies(model, settings, database),
            settings.ready_timeout_seconds,
            lambda: self.schema_revision,
            lambda: latency_checks(self.plans.values()),
        )
        contract_paths = set()
        timed = settings.server_timing
        traced = self.tracing.step if self.tracing is not None else None
        for op in model.operations:
            plan = self.plans[op.operation_id]
            handler = handle_handled if isinstance(plan, HandledPlan) else handler_for(op.kind)
            chain = build_chain(plan, handler, database, timed, traced)
            path = served_path(base_path_for(op.base_path, settings.base_path), op.path)
            self.router.add(path, op.method, (plan, chain))
            contract_paths.add(path)
        for path, endpoint in ops_endpoints(
            settings.ops_prefix,
            settings.docs,
            model.published_openapi,
            model.title,
            self.readiness.report,
        ).items():
            if path not in contract_paths:  # the contract's own paths win
                self.router.add(path, "GET", (None, endpoint))
        if settings.metrics and settings.metrics_path not in contract_paths:
            verifier = TokenVerifier(settings) if settings.metrics_role else None
            verify = (lambda token: verifier.verify(token, "bearer")) if verifier else None
            scrape = metrics_endpoint(settings, verify)
            self.router.add(settings.metrics_path, "GET", (None, scrape))
        self._pool_gauges: asyncio.Task[None] | None = None
        self._entry = build_stack(self.router, model, settings)

    @property
    def engine(self) -> AsyncEngine:
        """An SQLAlchemy engine on the app's database, for callers' own work (made on use)."""
        if self._engine is None:
            self._engine = make_engine(
                self.settings.database_url,
                pool_size=self.settings.pool_size,
                pgbouncer=self.settings.pgbouncer,
            )
        return self._engine

    @property
    def database(self) -> Database:
        """The connections requests run on."""
        if self._database is None:
            url = self.settings.database_url
            self._database = Database.for_url(
                url,
                dialect_for(url),
                pool_size=self.settings.pool_size,
                waits=Waits.of(self.settings),
                pgbouncer=self.settings.pgbouncer,
            )
            if self.tracing is not None:
                self.tracing.trace_statements(self._database)
        return self._database

    async def startup(self) -> None:
        if not self.tables_ready:
            self.schema_revision = await prepare_database(
                self.metadata, self.settings, self._engine, self.model
            )
        if self.settings.relay:
            background = Background(
                self.model, self.settings, self.database, self._tables, jobs=self._jobs
            )
            if not background.idle:
                background.start()
                self.background = background
        if self.cache is not None and self.settings.redis_url:
            self.cache.broadcast = RedisBroadcast(self.settings.redis_url, self.cache.generations)
            self.cache.broadcast.start()
        if self.settings.metrics:
            self._pool_gauges = asyncio.create_task(self._count_pool())
        _settle_garbage_collector()

    async def _count_pool(self) -> None:
        """The sampled gauges (in flight, the pool), once a second, here rather than at a
        scrape, which may reach another worker."""
        found = metrics()
        while True:
            publish(found, self._database.pool if self._database is not None else None)
            await asyncio.sleep(1)

    async def shutdown(self) -> None:
        # Peak memory, so a run's footprint can be read off the log (benchmarks do).
        flush_request_logs()  # the last requests' lines, before the lines of the stop
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        log.info("shutting down; peak memory %.1f MB", peak)
        if self._pool_gauges is not None:
            self._pool_gauges.cancel()
            self._pool_gauges = None
            metrics().fold()  # the last second's answers, into a worker's file before it ends
        if self.background is not None:
            await self.background.stop()
            self.background = None
        await self.counters.close()
        if self.cache is not None and self.cache.broadcast is not None:
            await self.cache.broadcast.close()
            self.cache.broadcast = None
        if self._database is not None:
            await self._database.close()
            self._database = None
        if self._engine is not None and self._owns_engine:
            await self._engine.dispose()
            self._engine = None
        if self.tracing is not None:  # last: the spans of everything above are sent too
            await asyncio.to_thread(self.tracing.shutdown)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._entry(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as error:
                    log.error("start-up failed: %s", error)
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _announce_base_path(model: Model, settings: Settings) -> None:
    """Say where the operations are served, and which of several server paths was taken."""
    if settings.base_path is not None:
        if settings.base_path.strip("/"):
            log.info("operations served under %s (BACKSMITH_BASE_PATH)", settings.base_path)
        return
    if model.base_path.path:
        log.info("operations served under %s", model.base_path.describe())


# Requests allocate many short-lived containers that reference counting frees anyway; a
# young-generation pass every 700 of them cost about 3% of a list request's CPU.
_YOUNG_THRESHOLD = 20_000


def _settle_garbage_collector() -> None:
    """Keep start-up's objects (plans, compiled statements) out of every later collection."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(max(_YOUNG_THRESHOLD, gc.get_threshold()[0]), older, oldest)


def create_app(model: Model, settings: Settings, engine: AsyncEngine | None = None) -> BacksmithApp:
    """The ASGI app for `model`."""
    return BacksmithApp(model, settings, engine)


__all__ = ["BacksmithApp", "create_app", "sa", "security_headers"]
