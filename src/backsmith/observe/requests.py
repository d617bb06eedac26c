"""The outermost layer: each request's id, its line in the log and its metrics.

Outermost, so it sees every answer, the error guard's too, and so the id it gives a
request is the one an unhandled error is logged with. The request id is always given
(an incoming plain `X-Request-ID`, else a new one) and sent back; the line is written
at log level info or lower; the metrics are counted while metrics are on.
"""

from __future__ import annotations

from time import perf_counter

from backsmith.http.request import (
    CALLER_KEY,
    PLAN_KEY,
    REQUEST_ID_KEY,
    ROUTE_KEY,
    STATUS_KEY,
    TRACE_ID_KEY,
)
from backsmith.http.types import ASGIApp, Receive, Scope, Send
from backsmith.logs import resolve_format
from backsmith.model.types import Model
from backsmith.observe.metrics import metrics
from backsmith.observe.request_log import RequestLog, request_id
from backsmith.settings import Settings

_LOGGED_LEVELS = ("info", "debug")


def observe_requests(app: ASGIApp, model: Model, settings: Settings) -> ASGIApp:
    """Request ids always; the request line and the metrics as the settings say."""
    log = (
        RequestLog(resolve_format(settings.log_format, settings.production))
        if settings.log_level.lower() in _LOGGED_LEVELS
        else None
    )
    counted = metrics() if settings.metrics else None

    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        start = perf_counter()
        # The id goes back with the answer, and the answer's status comes back in the
        # scope (`http.stack.send_answer`): no wrapper of `send` on every request.
        rid = scope[REQUEST_ID_KEY] = request_id(scope["headers"])
        if counted is not None:
            counted.serving += 1
        try:
            await app(scope, receive, send)
        finally:
            seconds = perf_counter() - start
            status = scope.get(STATUS_KEY, 500)  # 500: what a client that got no answer saw
            plan = scope.get(PLAN_KEY)
            operation = plan.operation.operation_id if plan is not None else None
            route = scope.get(ROUTE_KEY)
            if counted is not None:
                counted.serving -= 1
                counted.answered(operation or route or "", status, seconds)
            if log is not None:
                principal = scope.get(CALLER_KEY)
                log.write(
                    rid,
                    scope["method"],
                    route,
                    operation,
                    status,
                    seconds,
                    principal.subject if principal is not None else None,
                    scope.get(TRACE_ID_KEY),
                )

    return observed
