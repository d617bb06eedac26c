"""The service's Prometheus metrics, with prometheus-client, and the endpoint that serves them.

prometheus-client chooses at import whether values live in this process or in files
shared by the server's worker processes (`PROMETHEUS_MULTIPROC_DIR`, its multiprocess
mode), so it is imported on first use, after `serve` has chosen. The metrics are made
once per process: every app of a process (tests build many) counts into the same ones.
"""

from __future__ import annotations

import functools
import hmac
import os
import tempfile
from bisect import bisect_left
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from backsmith.errors import Forbidden, Unauthorized
from backsmith.http.request import Request
from backsmith.http.response import Response
from backsmith.settings import SettingError, Settings

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# From a millisecond to ten seconds: the range an API's answers fall in.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"
_STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
# An answer's bucket: the first bound at or above its seconds, as prometheus-client counts.
_BOUNDS = (*LATENCY_BUCKETS, float("inf"))


class Metrics:
    """Every metric backsmith keeps, by the part of the service that moves it."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

        # A `_created` sample beside every series doubles a scrape for what no one reads.
        disable_created_metrics()  # type: ignore[no-untyped-call]

        by_outcome = ["operation", "status"]  # status: its class, 2xx .. 5xx
        self.requests = Counter(
            "backsmith_requests", "Requests answered, by operation and status class", by_outcome
        )
        self.duration = Histogram(
            "backsmith_request_duration_seconds",
            "Time from a request's arrival to its answer, by operation and status class",
            by_outcome,
            buckets=LATENCY_BUCKETS,
        )
        self.in_flight = Gauge(
            "backsmith_requests_in_flight", "Requests being served", multiprocess_mode="livesum"
        )
        # What `in_flight` shows, counted as a plain number by the request layer and set on
        # the gauge each second (`publish`): a locked gauge moved twice a request costs more.
        self.serving = 0
        # Answers counted as plain numbers per (operation, status class): count, seconds,
        # and each bucket's count; `fold` adds them to the counter and the histogram each
        # second and before a scrape. A counter's `inc` takes a lock and a histogram's
        # `observe` walks its buckets in Python: together about 17,000 instructions a
        # request, against a few hundred here.
        self._answers: dict[tuple[str, int], list[Any]] = {}
        self.pool_size = Gauge(
            "backsmith_db_pool_size",
            "Database connections the pool may open (BACKSMITH_POOL_SIZE; SQLite: half)",
            multiprocess_mode="livesum",
        )
        self.pool_in_use = Gauge(
            "backsmith_db_pool_in_use",
            "Database connections handed out to requests",
            multiprocess_mode="livesum",
        )
        self.pool_waiting = Gauge(
            "backsmith_db_pool_waiting",
            "Requests waiting for a database connection",
            multiprocess_mode="livesum",
        )
        self.rate_limited = Counter(
            "backsmith_rate_limited", "Requests refused by a rate limit (429)", ["operation"]
        )
        self.rate_limit_unavailable = Counter(
            "backsmith_rate_limit_unavailable",
            "Requests served without their rate limit, its store unreachable (fail-open)",
            ["operation"],
        )
        self.idempotent_replays = Counter(
            "backsmith_idempotency_replays",
            "Answers replayed for a repeated Idempotency-Key",
            ["operation"],
        )
        self.cache_hits = Counter(
            "backsmith_cache_hits", "Reads answered from the cache", ["operation"]
        )
        self.cache_misses = Counter(
            "backsmith_cache_misses", "Cached reads that had to be read", ["operation"]
        )
        self.outbox_backlog = Gauge(
            "backsmith_outbox_backlog",
            "Events waiting in the outbox for delivery",
            multiprocess_mode="livemax",
        )
        self.delivery_failures = Counter(
            "backsmith_event_delivery_failures",
            "Event deliveries that failed (each is retried until its attempts run out)",
            ["target"],
        )
        self.delivery_duration = Histogram(
            "backsmith_event_delivery_seconds",
            "Time to deliver one event to a webhook or broker",
            ["target"],
            buckets=LATENCY_BUCKETS,
        )

    def answered(self, operation: str, status: int, seconds: float) -> None:
        """One answer of `operation`, counted until the next `fold`."""
        key = (operation, status // 100)
        counts = self._answers.get(key)
        if counts is None:
            counts = self._answers[key] = [0, 0.0, [0] * len(_BOUNDS)]
        counts[0] += 1
        counts[1] += seconds
        counts[2][bisect_left(_BOUNDS, seconds)] += 1

    def fold(self) -> None:
        """The answers counted since the last fold, added to the request metrics."""
        answers, self._answers = self._answers, {}
        for (operation, status_class), (count, seconds, buckets) in answers.items():
            label = _STATUS_CLASSES[status_class - 1] if 1 <= status_class <= 5 else "5xx"
            self.requests.labels(operation, label).inc(count)
            _add_observations(self.duration.labels(operation, label), seconds, buckets)


def _add_observations(histogram: Any, seconds: float, buckets: list[int]) -> None:
    """Many observations added to one histogram child at once: its sum and each bucket's
    count, which is all `observe` changes (prometheus-client has no call for a batch)."""
    histogram._sum.inc(seconds)
    for value, count in zip(histogram._buckets, buckets, strict=True):
        if count:
            value.inc(count)


def publish(found: Metrics, pool: Any) -> None:
    """The sampled gauges: requests in flight, and the pool's size, connections in use and
    waiters (a gauge set per request would cost every request); the answers counted."""
    found.fold()
    found.in_flight.set(found.serving)
    if pool is not None:
        found.pool_size.set(pool.size)
        found.pool_in_use.set(pool.in_use)
        found.pool_waiting.set(pool.waiting)


@functools.cache
def metrics() -> Metrics:
    """This process's metrics, made on first use."""
    return Metrics()


def operation_of(plan: Any) -> str:
    """The operation id a step's plan serves, as its metrics' label."""
    operation = getattr(plan, "operation", None)
    return str(operation.operation_id) if operation is not None else ""


def share_between_workers() -> None:
    """Several workers keep their metrics in files of one folder, which a scrape of any of
    them reads whole (prometheus-client's multiprocess mode): the folder named in
    PROMETHEUS_MULTIPROC_DIR, else a new one, so no earlier run's counts are read. Called
    before the metrics are first made, since prometheus-client reads it on import."""
    if not os.environ.get(MULTIPROCESS_DIR):
        os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="backsmith-metrics-")


def target_label(target: str) -> str:
    """A delivery target as a label: its scheme, host and path, never its credentials or
    query (a webhook URL may carry a token in either)."""
    parts = urlsplit(target)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def exposition() -> tuple[bytes, bytes]:
    """The text a scrape reads: every process's values in multiprocess mode, else this one's."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    metrics().fold()  # made, so a scrape before any request lists them all
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), _CONTENT_TYPE
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), _CONTENT_TYPE


def metrics_endpoint(
    settings: Settings, verify: Callable[[str], Awaitable[Any]] | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """The handler of `metrics_path`: open, or asking for `metrics_token` or a bearer JWT
    carrying `metrics_role` (either is enough where both are set)."""
    token = settings.metrics_token.encode()
    role = settings.metrics_role.strip()
    if role and verify is None:
        raise SettingError("metrics_role: no JWT key is set to check the scrape's token with")

    async def serve_metrics(request: Request) -> Response:
        if token or role:
            await _admit(request, token, role, verify)
        body, content_type = exposition()
        return Response(200, body, content_type)

    return serve_metrics


async def _admit(
    request: Request, token: bytes, role: str, verify: Callable[[str], Awaitable[Any]] | None
) -> None:
    sent = _bearer(request)
    if sent is None:
        raise Unauthorized(
            "The metrics ask for a bearer token.", headers={"www-authenticate": "Bearer"}
        )
    if token and hmac.compare_digest(sent, token):
        return
    if role and verify is not None:
        try:
            principal = await verify(sent.decode("latin-1"))
        except Exception:  # any token that does not verify is refused alike
            principal = None
        if principal is not None:
            if role in principal.roles:
                return
            raise Forbidden(f"The metrics need the role {role}.")
    raise Unauthorized(
        "The bearer token is not accepted for the metrics.",
        headers={"www-authenticate": 'Bearer error="invalid_token"'},
    )


def _bearer(request: Request) -> bytes | None:
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            scheme, _, credential = value.partition(b" ")
            if scheme.lower() == b"bearer" and credential.strip():
                return bytes(credential.strip())
            return None
    return None
