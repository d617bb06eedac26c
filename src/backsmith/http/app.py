"""The ASGI application: route once, run the operation's compiled plan, answer problems."""

from __future__ import annotations

import gc
import logging
import resource
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from backsmith.errors import MethodNotAllowed, NotFound, Problem
from backsmith.http.cors import with_cors
from backsmith.http.handlers import HANDLERS
from backsmith.http.ops import ops_endpoints
from backsmith.http.plans import compile_plans
from backsmith.http.problems import problem_response, server_error
from backsmith.http.request import Request, raw_path
from backsmith.http.response import Response
from backsmith.http.routing import Router
from backsmith.http.types import Receive, Scope, Send
from backsmith.model.types import Model
from backsmith.security.account_handlers import ACCOUNT_HANDLERS
from backsmith.security.exposure import check_exposure
from backsmith.settings import Settings
from backsmith.storage.database import Database
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
        # True when whoever built the app prepared the tables already (serve's preflight).
        self.tables_ready = False
        # The migration revision the database is at, for /readyz (None: it records none).
        self.schema_revision: str | None = None
        self.router = Router()
        self.headers = security_headers(settings.hsts)
        self.private_headers = [*self.headers, _NO_STORE]
        tables = {table.name: table for table in self.metadata.tables.values()}
        self.plans = compile_plans(model, settings, tables, lambda: self.database)
        check_exposure(model, self.plans, settings, log.warning)
        self._entry = with_cors(self._http, model, settings)
        contract_paths = set()
        for op in model.operations:
            plan = self.plans[op.operation_id]
            handler = HANDLERS.get(op.kind) or ACCOUNT_HANDLERS[op.kind]
            self.router.add(op.path, op.method, _bind(handler, plan, self))
            contract_paths.add(op.path)
        for path, endpoint in ops_endpoints(
            settings.ops_prefix,
            settings.docs,
            model.published_openapi,
            model.title,
            lambda: self.database,
            lambda: self.schema_revision,
        ).items():
            if path not in contract_paths:  # the contract's own paths win
                self.router.add(path, "GET", endpoint)

    @property
    def engine(self) -> AsyncEngine:
        """An SQLAlchemy engine on the app's database, for callers' own work (made on use)."""
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    @property
    def database(self) -> Database:
        """The connections requests run on."""
        if self._database is None:
            url = self.settings.database_url
            self._database = Database.for_url(url, dialect_for(url))
        return self._database

    async def startup(self) -> None:
        if not self.tables_ready:
            self.schema_revision = await prepare_database(
                self.metadata, self.settings, self._engine, self.model
            )
        _settle_garbage_collector()

    async def shutdown(self) -> None:
        # Peak memory, so a run's footprint can be read off the log (benchmarks do).
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        log.info("shutting down; peak memory %.1f MB", peak)
        if self._database is not None:
            await self._database.close()
            self._database = None
        if self._engine is not None and self._owns_engine:
            await self._engine.dispose()
            self._engine = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._entry(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        method = scope["method"]
        try:
            response = await self._dispatch(scope, receive, path, method)
        except Problem as problem:
            response = problem_response(problem, raw_path(scope))
        except Exception as error:
            response = server_error(error, raw_path(scope))
        credentialed = any(name in _CREDENTIALS for name, _ in scope["headers"])
        private = credentialed and _NO_STORE not in response.headers  # not said twice
        always = self.private_headers if private else self.headers
        await response.send(send, head=method == "HEAD", always=always)

    async def _dispatch(self, scope: Scope, receive: Receive, path: str, method: str) -> Response:
        match = self.router.match(path)
        if match is None:
            raise NotFound(f"No operation is declared at {path}.")
        found = match.target(method)
        if found is None and method == "HEAD":
            found = match.target("GET")
        if found is None:
            allowed = sorted(match.methods)
            if "GET" in match.methods:
                allowed.append("HEAD")
            raise MethodNotAllowed(
                f"{method} is not declared for {match.template}.",
                headers={"allow": ", ".join(allowed)},
            )
        target, params = found
        return await target(Request(scope, receive, params))  # type: ignore[no-any-return]

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


# A response to a request that carries credentials may hold what only that caller may see.
_CREDENTIALS = frozenset({b"authorization", b"cookie"})
_NO_STORE = (b"cache-control", b"no-store")


def security_headers(hsts_seconds: int) -> list[tuple[bytes, bytes]]:
    """Headers on every response (OWASP REST Security Cheat Sheet)."""
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", b"frame-ancestors 'none'"),
    ]
    if hsts_seconds > 0:
        headers.append((b"strict-transport-security", f"max-age={hsts_seconds}".encode()))
    return headers


# Requests allocate many short-lived containers that reference counting frees anyway; a
# young-generation pass every 700 of them cost about 3% of a list request's CPU.
_YOUNG_THRESHOLD = 20_000


def _settle_garbage_collector() -> None:
    """Keep start-up's objects (plans, compiled statements) out of every later collection."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(max(_YOUNG_THRESHOLD, gc.get_threshold()[0]), older, oldest)


def _bind(handler: Any, plan: Any, app: BacksmithApp) -> Any:
    if not plan.guarded:  # open, and nothing depends on who calls: no credential is read

        async def endpoint(request: Request) -> Response:
            return await handler(plan, app.database, request)  # type: ignore[no-any-return]

        return endpoint
    admit = plan.guard.admit

    async def guarded(request: Request) -> Response:
        request.principal = await admit(request)
        response: Response = await handler(plan, app.database, request)
        if request.principal is not None:  # for this caller only, however they proved it
            response.headers.append(_NO_STORE)
        return response

    return guarded


def create_app(model: Model, settings: Settings, engine: AsyncEngine | None = None) -> BacksmithApp:
    """The ASGI app for `model`."""
    return BacksmithApp(model, settings, engine)


__all__ = ["BacksmithApp", "create_app", "sa"]
