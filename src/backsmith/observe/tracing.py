"""Tracing with OpenTelemetry: a span per request, per pipeline step and per SQL statement.

Off by default (`BACKSMITH_TRACING`) and free when off: nothing of OpenTelemetry is
imported until tracing is switched on, the `tracing` layer returns the app it is given,
`build_chain` wraps no step and the database keeps its plain connection class. On, one
tracer provider serves the process, as OpenTelemetry intends, and sends its spans in
batches over OTLP/HTTP where the standard OTEL_* variables say; the app's shutdown
flushes it. Spans carry SQL text and routes, never a request's values: no bound
parameters, no exception messages (a driver's message may quote the value it refused).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from backsmith.errors import Problem
from backsmith.http.request import PLAN_KEY, ROUTE_KEY, TRACE_ID_KEY

if TYPE_CHECKING:
    from collections.abc import Callable

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

    from backsmith.http.pipeline import Endpoint
    from backsmith.http.request import Request
    from backsmith.http.response import Response
    from backsmith.http.types import ASGIApp, Message, Receive, Scope, Send
    from backsmith.model.types import Model
    from backsmith.settings import Settings
    from backsmith.storage.database import Database
    from backsmith.storage.statements import Connection, Row

__all__ = ["Tracing", "current_trace_id", "open_tracing", "tracing"]

# The tracing the process has open, if any; OpenTelemetry has one provider per process.
_active: Tracing | None = None
# OpenTelemetry's `get_current_span`, once tracing has been on: `current_trace_id` reads
# it without importing anything while tracing was never on.
_current_span: Callable[[], Span] | None = None
# The server span of the request this task serves. It outlives the span's context, so the
# request's log line, written by a layer outside this one, still names its trace.
_request_span: ContextVar[Span | None] = ContextVar("backsmith_request_span", default=None)
# The first word of a statement names its span: SELECT, INSERT, BEGIN, COMMIT...
_FIRST_WORD = re.compile(r"\s*([A-Za-z]+)")


def tracing(app: ASGIApp, model: Model, settings: Settings) -> ASGIApp:
    """The layer: with `tracing` on, a server span around each request; else `app` itself."""
    opened = open_tracing(model, settings)
    return app if opened is None else opened.server(app)


def open_tracing(
    model: Model, settings: Settings, exporter: SpanExporter | None = None
) -> Tracing | None:
    """The process's tracing when `settings.tracing` is on (opened now if none is), else None.

    Args:
        model: its title is the service's name, unless OTEL_SERVICE_NAME (or `service.name`
            in OTEL_RESOURCE_ATTRIBUTES) gives one.
        settings: `tracing` switches it on; off, nothing is imported and None returned.
        exporter: where the spans go; by default the OTLP/HTTP exporter, which reads the
            OTEL_EXPORTER_OTLP_* variables. Given, it replaces the tracing open before:
            tests pass an `InMemorySpanExporter` before they build an app.

    Example:
        >>> open_tracing(model, load_settings(model.options, tracing=True))  # doctest: +SKIP
    """
    global _active, _current_span
    if not settings.tracing:
        return None
    if _active is not None:
        if exporter is None:
            return _active
        _active.shutdown()
    from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace import get_current_span

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    # Attributes given to `Resource.create` win over the environment's: the contract's
    # title is given only when the environment names no service.
    named = SERVICE_NAME in OTELResourceDetector().detect().attributes
    resource = Resource.create({} if named else {SERVICE_NAME: model.title or "backsmith"})
    # The sampler follows OTEL_TRACES_SAMPLER, the batches OTEL_BSP_*.
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    _current_span = get_current_span
    _active = Tracing(provider)
    return _active


def current_trace_id() -> str | None:
    """The trace id (32 hex digits) of the span running now, or of the request this task
    serves; None when tracing is off or there is no span.

    For the request's log line: while tracing was never on it imports nothing and returns
    at once. After the request's span has ended, the request's trace is still named, so a
    layer outside the tracing layer can write it.

    Example:
        >>> current_trace_id() is None  # outside any request
        True
    """
    current = _current_span
    if current is None:
        return None
    found = current().get_span_context()
    if not found.is_valid:
        served = _request_span.get()
        if served is None:
            return None
        found = served.get_span_context()
    return f"{found.trace_id:032x}" if found.is_valid else None


class Tracing:
    """The process's tracer provider and the spans backsmith makes with it."""

    def __init__(self, provider: TracerProvider) -> None:
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        from backsmith import __version__

        self.provider = provider
        self.tracer: Tracer = provider.get_tracer("backsmith", __version__)
        self._propagator = TraceContextTextMapPropagator()

    def server(self, app: ASGIApp) -> ASGIApp:
        """`app` in a server span per request, continuing an incoming W3C `traceparent`."""
        from opentelemetry import context
        from opentelemetry.trace import SpanKind, set_span_in_context

        tracer = self.tracer
        extract = self._propagator.extract
        attach, detach = context.attach, context.detach
        server = SpanKind.SERVER

        async def traced(scope: Scope, receive: Receive, send: Send) -> None:
            carrier = {
                name.decode("latin-1"): value.decode("latin-1")
                for name, value in scope["headers"]
                if name in (b"traceparent", b"tracestate")
            }
            parent = extract(carrier)  # an empty context without one: a new trace
            method = scope["method"]
            # Named by the method until routing has found the template (semantic conventions).
            span = tracer.start_span(
                method,
                parent,
                server,
                {
                    "http.request.method": method,
                    "url.path": scope["path"],
                    "url.scheme": scope.get("scheme", "http"),
                    "network.protocol.version": scope.get("http_version", "1.1"),
                },
            )
            _request_span.set(span)
            found = span.get_span_context()
            scope[TRACE_ID_KEY] = f"{found.trace_id:032x}"
            token = attach(set_span_in_context(span, parent))
            status = 0

            async def send_traced(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_traced)
            except BaseException as error:  # the error guard outside answers it
                _failed(span, error)
                raise
            finally:
                detach(token)
                _answered(span, scope, method, status)
                span.end()

        return traced

    def step(self, name: str, step: Endpoint) -> Endpoint:
        """`step` in a span of its own, current while it runs: the steps and statements it
        calls nest under it (contextvars carry the span across awaits)."""
        from opentelemetry import context
        from opentelemetry.trace import set_span_in_context

        tracer = self.tracer
        attach, detach = context.attach, context.detach
        attributes = {"backsmith.step": name}

        async def traced(request: Request) -> Response:
            span = tracer.start_span(name, attributes=attributes)
            token = attach(set_span_in_context(span))
            try:
                return await step(request)
            except BaseException as error:
                # A client's mistake (a 404, a 422) is an answer, not the step failing.
                if not isinstance(error, Problem) or error.status >= 500:
                    _failed(span, error)
                raise
            finally:
                detach(token)
                span.end()

        return traced

    def trace_statements(self, database: Database) -> None:
        """From now on each statement `database` runs in a request is a span of its own.

        The database's connection class becomes a subclass whose `run_sql` (every statement,
        BEGIN and COMMIT too, goes through it) makes the span: chosen once, so the
        untraced class is left without a check per statement.
        """
        base = database.connection_type
        if not getattr(base, "traced", False):
            database.connection_type = _traced_connection(base, self.tracer, database.dialect.name)

    def force_flush(self) -> bool:
        """Send the spans ended so far; False when the exporter did not finish in time."""
        return self.provider.force_flush()

    def shutdown(self) -> None:
        """Send what is left and stop; blocks until the exporter is done or gives up."""
        global _active
        if _active is self:
            _active = None
        self.provider.shutdown()


def _traced_connection(base: type[Connection], tracer: Tracer, system: str) -> type[Connection]:
    """`base` with each statement in a client span, nested in the step that ran it."""
    from opentelemetry.trace import SpanKind, get_current_span

    run = base.run_sql
    client = SpanKind.CLIENT

    async def run_sql(
        self: Connection, sql: str, args: list[Any], rows: bool, point: bool = False
    ) -> tuple[list[Row], int]:
        if not get_current_span().is_recording():
            # Outside a sampled request (the relay, scheduled jobs): no trace to join, and a
            # poll's statements each a trace of their own would drown the requests' ones.
            return await run(self, sql, args, rows, point)
        word = _FIRST_WORD.match(sql)
        span = tracer.start_span(
            word.group(1).upper() if word else system,
            kind=client,
            attributes={"db.system.name": system, "db.query.text": sql},
        )
        try:
            return await run(self, sql, args, rows, point)
        except BaseException as error:
            _failed(span, error)
            raise
        finally:
            span.end()

    namespace = {"__slots__": (), "run_sql": run_sql, "traced": True}
    traced: type[Connection] = type(f"Traced{base.__name__}", (base,), namespace)
    return traced


def _answered(span: Span, scope: Scope, method: str, status: int) -> None:
    """The route, operation and status, known once the inner layers have run."""
    route = scope.get(ROUTE_KEY)  # None: no path matched (404) or no method did (405)
    if route is not None:
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
    plan = scope.get(PLAN_KEY)
    if plan is not None:
        span.set_attribute("backsmith.operation_id", plan.operation.operation_id)
    if status:
        span.set_attribute("http.response.status_code", status)
        if status >= 500:  # a 4xx is the client's error, not the server's (conventions)
            _failed(span, None, str(status))


def _failed(span: Span, error: BaseException | None, kind: str = "") -> None:
    """Mark the span failed, with the error's type or the code it was answered with."""
    from opentelemetry.trace import StatusCode

    if error is not None:
        sqlstate = getattr(error, "sqlstate", "")
        if sqlstate:
            span.set_attribute("db.response.status_code", sqlstate)
        kind = sqlstate or type(error).__qualname__
    span.set_attribute("error.type", kind)
    span.set_status(StatusCode.ERROR)
