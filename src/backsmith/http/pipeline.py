"""Each operation's chain of steps, compiled at start-up: authenticate, parse, execute.

A step is built by a function that receives the plan (as the facts it reads, never the
plan class) and the next step, and returns the step, or None when the policy does not
apply to the operation: an open operation has no authenticate step, a custom one no
parse step. A new policy (a rate limit, an idempotency record) is one builder and one
entry in `STEPS`. With timing on, every step is wrapped to record how long it took;
with tracing on, to run in a span of its own (`backsmith.observe.tracing`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from time import perf_counter_ns
from typing import Any, Protocol

from backsmith.http.request import TIMINGS_KEY, Request
from backsmith.http.response import NO_STORE, Response
from backsmith.policies.caching import caching
from backsmith.policies.conditions import conditions
from backsmith.policies.idempotency import idempotency
from backsmith.policies.rate_limits import rate_limit

Endpoint = Callable[[Request], Awaitable[Response]]
# A policy step's builder: (the plan's facts, the next step) -> the step, or None.
StepBuilder = Callable[[Any, Endpoint], Endpoint | None]
# A handler: (plan, database, request) -> response.
Handler = Callable[[Any, Any, Request], Awaitable[Response]]
# Wraps a named step in another that does something around it (a tracing span).
StepWrapper = Callable[[str, Endpoint], Endpoint]


class Admits(Protocol):
    async def admit(self, request: Request) -> Any: ...


class Guarded(Protocol):
    """The facts the authenticate step reads."""

    guarded: bool
    guard: Admits


class Parses(Protocol):
    """The facts the parse step reads."""

    parses: bool
    parser: Any


def authenticate(plan: Guarded, next_step: Endpoint) -> Endpoint | None:
    """Admit the caller (401 / 403) before anything is read; the answer is then private."""
    if not plan.guarded:  # open, and nothing depends on who calls: no credential is read
        return None
    admit = plan.guard.admit
    if getattr(plan, "cache", None) is not None:  # the cache step says `private` instead

        async def admitted(request: Request) -> Response:
            request.principal = await admit(request)
            return await next_step(request)

        return admitted

    async def authenticated(request: Request) -> Response:
        principal = request.principal = await admit(request)
        response = await next_step(request)
        if principal is not None:
            response.headers.append(NO_STORE)
        return response

    return authenticated


def parse(plan: Parses, next_step: Endpoint) -> Endpoint | None:
    """Decode and validate parameters and body into `request.parsed`."""
    if not plan.parses:
        return None
    run = plan.parser.parse

    async def parsed(request: Request) -> Response:
        request.parsed = await run(request)
        return await next_step(request)

    return parsed


# The policy steps in the order a request meets them; execute follows the last.
STEPS: tuple[tuple[str, StepBuilder], ...] = (
    ("auth", authenticate),
    ("limit", rate_limit),
    ("conditions", conditions),
    ("cache", caching),
    ("parse", parse),
    ("idempotency", idempotency),
)


def execute(plan: Any, handler: Handler, database: Callable[[], Any]) -> Endpoint:
    """The kind's handler, on the database the provider gives when the request runs."""

    async def executed(request: Request) -> Response:
        unit = request.unit
        return await handler(plan, database() if unit is None else unit, request)

    return executed


def build_chain(
    plan: Any,
    handler: Handler,
    database: Callable[[], Any],
    timed: bool = False,
    traced: StepWrapper | None = None,
) -> Endpoint:
    """The operation's steps as one endpoint, first step outermost.

    `timed`: each step records its time for Server-Timing. `traced`: each step is wrapped
    by it as well, outside the timing (a span per step). Neither: the steps as they are.
    """
    endpoint = _wrapped("execute", execute(plan, handler, database), timed, traced)
    for name, build in reversed(STEPS):
        step = build(plan, endpoint)
        if step is not None:
            endpoint = _wrapped(name, step, timed, traced)
    return endpoint


def _wrapped(name: str, step: Endpoint, timed: bool, traced: StepWrapper | None) -> Endpoint:
    if timed:
        step = _timed(name, step)
    return step if traced is None else traced(name, step)


def _timed(name: str, step: Endpoint) -> Endpoint:
    async def timed(request: Request) -> Response:
        start = perf_counter_ns()
        try:
            return await step(request)
        finally:
            request.scope[TIMINGS_KEY].append((name, perf_counter_ns() - start))

    return timed


def step_durations(timings: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Each step's own nanoseconds, first step first: its time less the steps it called."""
    own = []
    inner = 0
    for name, spent in timings:  # innermost first, each holding the one before it
        own.append((name, max(spent - inner, 0)))
        inner = spent
    own.reverse()
    return own
