"""Latency budgets from the contract: each budgeted operation's recent durations, kept by
one ASGI layer, and the `/readyz` warnings of the operations running over their budget.

`x-backsmith: {slo: {p95: 50ms, p99: 200ms, rps: 500}}` at the root, on a path item or on
an operation gives that operation a budget (`model.policies.Slo`). Its plan then holds a
`Recent`: the durations of its last `WINDOW_REQUESTS` requests in a fixed ring, with the
moment each ended. `/readyz` reads the ones that ended in the last `WINDOW_SECONDS`, and
with at least `MIN_SAMPLES` of them, warns (still 200: the service serves, only slower
than promised) where the recent p99 is over the declared p99, or the p95 over the p95.

A request's duration runs from the layer handing it in to the inner app returning: the
answer sent, errors answered by the router included. Each worker process keeps its own
window, so a worker's `/readyz` speaks of the requests that worker served. Operations with
no budget keep nothing; with no budget anywhere the layer is not in the stack at all.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from time import perf_counter_ns
from typing import Any

from backsmith.http.request import PLAN_KEY
from backsmith.http.types import ASGIApp, Receive, Scope, Send
from backsmith.model.policies import Slo
from backsmith.model.types import Model
from backsmith.settings import Settings

# The requests a window keeps at most, and how old the ones it reads may be: enough for a
# p99 to mean something, few enough that one slow minute shows within the minute.
WINDOW_REQUESTS = 1000
WINDOW_SECONDS = 60.0
# Fewer requests than this say nothing about a p99: no warning from them.
MIN_SAMPLES = 20
_FRACTIONS = {"p95": 0.95, "p99": 0.99}


class Recent:
    """The durations (ms) of an operation's last requests, with when each one ended.

    Two fixed arrays and a cursor: recording is two stores and an increment, with no
    allocation on the request's path; the reading (one per `/readyz`) does the sorting.
    """

    __slots__ = ("_count", "_durations", "_ends", "_next", "size", "slo")

    def __init__(self, slo: Slo, size: int = WINDOW_REQUESTS) -> None:
        self.slo = slo
        self.size = size
        self._durations = array("d", bytes(8 * size))
        self._ends = array("d", bytes(8 * size))  # perf_counter seconds
        self._next = 0
        self._count = 0

    def record(self, milliseconds: float, ended: float) -> None:
        """Keep one request's duration, over the oldest one once the ring is full."""
        at = self._next
        self._durations[at] = milliseconds
        self._ends[at] = ended
        self._next = 0 if at + 1 == self.size else at + 1
        if self._count < self.size:
            self._count += 1

    def since(self, moment: float) -> list[float]:
        """The durations of the requests that ended at `moment` or later, sorted."""
        count = self._count
        return sorted(
            duration
            for duration, ended in zip(self._durations[:count], self._ends[:count], strict=True)
            if ended >= moment
        )


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values: the smallest value with at least
    `fraction` of them at or below it (a p99 of 20 values is their largest)."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def recent_for(slo: Slo | None) -> Recent | None:
    """The window a budgeted operation's plan keeps; None (nothing kept) without a budget."""
    return Recent(slo) if slo is not None else None


def over_budget(recent: Recent, now: float) -> tuple[str, float, float] | None:
    """(percentile, observed ms, budget ms) of the first budget the recent requests run
    over, p99 before p95; None within budget or with too few requests to tell."""
    durations = recent.since(now - WINDOW_SECONDS)
    if len(durations) < MIN_SAMPLES:
        return None
    for name, budget in recent.slo.budgets():
        observed = percentile(durations, _FRACTIONS[name])
        if observed > budget:
            return name, observed, budget
    return None


def latency_checks(plans: Iterable[Any], now: float | None = None) -> dict[str, list[Any]]:
    """The `/readyz` checks (application/health+json) of the operations over budget,
    keyed `latency:<operationId>`; empty when every one is within its budget."""
    now = perf_counter_ns() / 1e9 if now is None else now
    checks: dict[str, list[Any]] = {}
    for plan in plans:
        recent: Recent | None = getattr(plan, "budget", None)
        found = over_budget(recent, now) if recent is not None else None
        if found is None:
            continue
        name, observed, budget = found
        checks[f"latency:{plan.operation.operation_id}"] = [
            {
                "componentType": "component",
                "status": "warn",
                "observedValue": round(observed, 3),
                "observedUnit": "ms",
                "output": f"{name} over its {budget:g} ms budget",
            }
        ]
    return dict(sorted(checks.items()))


def budgets(app: ASGIApp, model: Model, settings: Settings) -> ASGIApp:
    """Each request's duration kept in its operation's window, for operations with a budget.

    The operation is known only once the router has run, so the layer times every request
    and keeps the durations of those whose plan holds a window; with no budget declared
    anywhere it returns `app` itself and costs nothing.
    """
    if not any(op.policies.slo is not None for op in model.operations):
        return app
    clock = perf_counter_ns

    async def budgeted(scope: Scope, receive: Receive, send: Send) -> None:
        start = clock()
        try:
            await app(scope, receive, send)
        finally:
            plan = scope.get(PLAN_KEY)  # None: the service's own paths, or no route
            recent: Recent | None = plan.budget if plan is not None else None
            if recent is not None:
                end = clock()
                recent.record((end - start) / 1e6, end / 1e9)

    return budgeted


__all__ = ["Recent", "budgets", "latency_checks", "over_budget", "percentile", "recent_for"]
