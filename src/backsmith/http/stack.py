"""The app as one ordered list of ASGI layers around the router, built once at start-up.

Outermost first: the error guard, security headers, CORS, request timing, then the
router. Each layer is a builder `(app, model, settings) -> app` that returns `app`
itself when it has nothing to do (CORS with no origins, timing switched off), so a
layer costs nothing where it does not apply. A new layer (metrics, request ids) is one
builder and one entry in `LAYERS`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from time import perf_counter_ns

from backsmith.errors import MethodNotAllowed, NotFound, Problem, ServiceUnavailable
from backsmith.http.budgets import budgets
from backsmith.http.cors import with_cors
from backsmith.http.error_bodies import ErrorAnswerer, answer, server_problem
from backsmith.http.pipeline import step_durations
from backsmith.http.request import (
    CALLER_KEY,
    PLAN_KEY,
    REQUEST_ID_KEY,
    ROUTE_KEY,
    STATUS_KEY,
    TIMINGS_KEY,
    Request,
)
from backsmith.http.response import NO_STORE, Response
from backsmith.http.routing import Router
from backsmith.http.types import ASGIApp, Message, Receive, Scope, Send
from backsmith.model.error_shapes import shared_answers
from backsmith.model.types import Model
from backsmith.observe.requests import observe_requests
from backsmith.observe.tracing import tracing
from backsmith.settings import Settings

Layer = Callable[[ASGIApp, Model, Settings], ASGIApp]

# A response to a request that carries credentials may hold what only that caller may see.
_CREDENTIALS = frozenset({b"authorization", b"cookie"})
# Where the security layer leaves the headers every answer carries.
HEADERS_KEY = "backsmith.headers"
_REQUEST_ID = b"x-request-id"


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


def error_guard(app: ASGIApp, model: Model, settings: Settings) -> ASGIApp:
    """The last resort: a fault no inner layer answered is a problem answer, never a trace."""
    headers = security_headers(settings.hsts)
    shared = shared_answerer(model)

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except (Exception, asyncio.CancelledError) as error:
            if isinstance(error, asyncio.CancelledError):
                # Only a server stopping cancels a request (past `shutdown_seconds`): its
                # transaction is rolled back, and the client told so, not sent a 500.
                error = ServiceUnavailable(
                    "The server is stopping; the request was not completed.",
                    headers={"retry-after": "1", "connection": "close"},
                )
            elif not isinstance(error, Problem):
                error = server_problem(error, scope)
            response = answer(error, scope, shared)
            try:
                await send_answer(scope, response, send, headers)
            except Exception:
                raise error from None  # the answer had begun: the server ends the connection

    return guarded


def secure(app: ASGIApp, model: Model, settings: Settings) -> ASGIApp:
    """Security headers on every response; `no-store` too for a caller who sent credentials.

    The layer chooses the headers and leaves them in the scope; the responders inside
    (the router, the error guard) send them with the answer. No wrapper of `send` per
    request: this layer is on every request's path.
    """
    public = security_headers(settings.hsts)
    private = [*public, NO_STORE]

    async def secured(scope: Scope, receive: Receive, send: Send) -> None:
        scope[HEADERS_KEY] = private if _credentialed(scope["headers"]) else public
        await app(scope, receive, send)

    return secured


def _credentialed(headers: list[tuple[bytes, bytes]]) -> bool:
    # A loop, not `any()` over a generator: less than half its cost, on every request.
    for name, _ in headers:  # noqa: SIM110
        if name in _CREDENTIALS:
            return True
    return False


async def send_answer(
    scope: Scope,
    response: Response,
    send: Send,
    fallback: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Sends `response` with the headers every answer carries, its status noted for the
    request layer (which so needs no wrapper of `send`: it is on every request's path)."""
    scope[STATUS_KEY] = response.status
    await response.send(
        send, head=scope["method"] == "HEAD", always=always_sent(scope, response, fallback)
    )


def always_sent(
    scope: Scope, response: Response, fallback: list[tuple[bytes, bytes]] | None = None
) -> list[tuple[bytes, bytes]] | None:
    """The headers the security layer chose (else `fallback`), `no-store` not said twice,
    nor over an answer's own `Cache-Control` (a cached read's `private, max-age=30`); then
    the request's id, which the request layer gave."""
    headers: list[tuple[bytes, bytes]] | None = scope.get(HEADERS_KEY) or fallback
    if (
        headers
        and headers[-1] == NO_STORE
        and any(name == b"cache-control" for name, _ in response.headers)
    ):
        headers = headers[:-1]
    given: bytes | None = scope.get(REQUEST_ID_KEY)
    if given is None:
        return headers
    return [*headers, (_REQUEST_ID, given)] if headers else [(_REQUEST_ID, given)]


def cors(app: ASGIApp, model: Model, settings: Settings) -> ASGIApp:
    """Cross-origin requests, when origins are configured (see `backsmith.http.cors`)."""
    wrapped: ASGIApp = with_cors(app, model, settings)
    if wrapped is app:
        return app

    async def cross_origin(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "OPTIONS":
            await wrapped(scope, receive, send)
            return

        async def send_preflight(message: Message) -> None:
            # A preflight the CORS middleware answers itself: its status and the
            # request's id, as `send_answer` gives every other answer.
            if message["type"] == "http.response.start" and STATUS_KEY not in scope:
                scope[STATUS_KEY] = message["status"]
                given = scope.get(REQUEST_ID_KEY)
                if given is not None:
                    message["headers"] = [*message["headers"], (_REQUEST_ID, given)]
            await send(message)

        await wrapped(scope, receive, send_preflight)

    return cross_origin


def observe(app: ASGIApp, model: Model, settings: Settings) -> ASGIApp:
    """With `server_timing` on: the steps' timings kept on the request and sent back."""
    if not settings.server_timing:
        return app

    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        timings: list[tuple[str, int]] = []
        scope[TIMINGS_KEY] = timings
        start = perf_counter_ns()

        async def send_timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                total = perf_counter_ns() - start
                message["headers"] = [
                    *message["headers"],
                    (b"server-timing", server_timing(timings, total)),
                ]
            await send(message)

        await app(scope, receive, send_timed)

    return observed


def server_timing(timings: list[tuple[str, int]], total: int) -> bytes:
    """`Server-Timing` (W3C): each step's own milliseconds, then the whole request's."""
    parts = [f"{name};dur={spent / 1e6:.3f}" for name, spent in step_durations(timings)]
    parts.append(f"total;dur={total / 1e6:.3f}")
    return ", ".join(parts).encode()


# The layers outermost first; the router is the innermost app.
LAYERS: tuple[tuple[str, Layer], ...] = (
    ("requests", observe_requests),
    ("errors", error_guard),
    ("security-headers", secure),
    ("cors", cors),
    ("tracing", tracing),
    ("budgets", budgets),
    ("observe", observe),
)


def build_stack(router: Router, model: Model, settings: Settings) -> ASGIApp:
    """The router behind every layer of `LAYERS`."""
    app = routed(router, shared_answerer(model))
    for _, layer in reversed(LAYERS):
        app = layer(app, model, settings)
    return app


def shared_answerer(model: Model) -> ErrorAnswerer:
    """How requests no operation takes are answered (see `model.error_shapes.shared_answers`)."""
    return ErrorAnswerer(
        shared_answers(op.errors.family for op in model.operations if op.errors.shapes)
    )


def routed(router: Router, shared: ErrorAnswerer) -> ASGIApp:
    """The innermost app: find the operation, run its chain, answer its problems."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        try:
            response = await _dispatch(router, scope, receive, method)
        except Problem as problem:
            response = answer(problem, scope, shared)
        except Exception as error:
            response = answer(server_problem(error, scope), scope, shared)
        await send_answer(scope, response, send)

    return route


async def _dispatch(router: Router, scope: Scope, receive: Receive, method: str) -> Response:
    path = scope["path"]
    match = router.match(path)
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
    (plan, endpoint), params = found
    scope[PLAN_KEY] = plan
    scope[ROUTE_KEY] = match.template
    request = Request(scope, receive, params, plan)
    try:
        response: Response = await endpoint(request)
    finally:
        scope[CALLER_KEY] = request.principal
    return response


__all__ = ["LAYERS", "build_stack", "security_headers"]
