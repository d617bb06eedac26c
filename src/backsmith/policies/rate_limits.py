"""The rate-limit step: a caller's requests counted in the windows the contract declares.

`x-backsmith: {rate-limit: 100/minute}` (or a list of windows) at the root, on a path item
or on an operation. The operations under one declaration share its counters. A caller is
the principal the authenticate step admitted, else the client's address (an IPv6 one by
its /64); a proxy's X-Forwarded-For counts only from the addresses `trusted_proxies`
names. Counting follows authentication, so a 401 or 403 spends nobody's quota.

Every answer of a limited operation carries the fields of the IETF httpapi draft
(draft-ietf-httpapi-ratelimit-headers-10), as RFC 8941 lists:

    RateLimit-Policy: "100-per-minute";q=100;w=60
    RateLimit: "100-per-minute";r=42;t=17

and a request past a window is answered 429 quota-exceeded, with `Retry-After` no earlier
than the window returns a unit. When the counters cannot be reached, the request is
served with a warning (`rate_limit_failure: open`) or answered 503 (`closed`), never 500.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Any, Protocol

from backsmith.errors import Problem, QuotaExceeded, ServiceUnavailable
from backsmith.http.request import Request
from backsmith.http.response import Response
from backsmith.model.policies import RateLimit
from backsmith.observe.metrics import metrics, operation_of
from backsmith.policies.counters import Count, Counters, CountersDown, parse_limit
from backsmith.security.accounts import caller_key

if TYPE_CHECKING:  # the pipeline lists this step: its types are only named here
    from backsmith.http.pipeline import Endpoint

log = logging.getLogger("backsmith")
# A store that is down is said at most this often, not once per request.
WARN_EVERY_S = 10.0


class Limited(Protocol):
    """The facts the rate-limit step reads."""

    limit: OperationLimit | None


class OperationLimit:
    """One operation's windows, compiled: their counter keys and their policy field."""

    __slots__ = (
        "counters",
        "fail_closed",
        "policy_bytes",
        "policy_field",
        "prefix",
        "scope",
        "windows",
    )

    def __init__(self, rate_limit: RateLimit, counters: Counters, fail_closed: bool) -> None:
        self.counters = counters
        self.fail_closed = fail_closed
        self.scope = rate_limit.scope or "/"
        self.windows = [
            (f"{w.count}-per-{w.period}", parse_limit(w.describe()), w.count, w.seconds)
            for w in rate_limit.windows
        ]
        self.policy_field = ", ".join(
            f'"{name}";q={count};w={seconds}' for name, _, count, seconds in self.windows
        )
        self.policy_bytes = self.policy_field.encode()
        self.prefix = f"rl:{self.scope}:"

    async def count(self, request: Request) -> list[tuple[bytes, bytes]]:
        """Spend one unit of every window: the fields to answer with, or 429 past one."""
        key = self.prefix + caller_key(request)
        counters = self.counters
        states = []
        for name, item, _, _ in self.windows:
            counted = counters.take_held(item, key) or await counters.take(item, key)
            state = _state(name, counted)
            if not counted.allowed:  # the longer windows are not spent
                wait = max(1, math.ceil(counted.reset_s))
                raise QuotaExceeded(
                    f"Over the limit of {name.replace('-', ' ')}; try again in {wait} s.",
                    headers={
                        "retry-after": str(wait),
                        "ratelimit-policy": self.policy_field,
                        "ratelimit": state,
                    },
                )
            states.append(state)
        return [
            (b"ratelimit-policy", self.policy_bytes),
            (b"ratelimit", ", ".join(states).encode()),
        ]


def _state(name: str, counted: Count) -> str:
    return f'"{name}";r={max(0, counted.remaining)};t={math.ceil(counted.reset_s)}'


class _Warning:
    """Says that the counters are down, once per `WARN_EVERY_S`."""

    last = 0.0

    @classmethod
    def say(cls, error: CountersDown) -> None:
        now = time.monotonic()
        if now - cls.last >= WARN_EVERY_S:
            cls.last = now
            log.warning("%s; requests are served without their rate limit", error)


def rate_limit(plan: Limited, next_step: Endpoint) -> Endpoint | None:
    """Count the caller's request before anything is parsed; 429 past the limit."""
    limit = plan.limit
    if limit is None:
        return None
    found, operation = metrics(), operation_of(plan)
    refused, unlimited = (
        found.rate_limited.labels(operation),
        found.rate_limit_unavailable.labels(operation),
    )

    async def limited(request: Request) -> Response:
        try:
            fields = await limit.count(request)
        except QuotaExceeded:
            refused.inc()
            raise
        except CountersDown as error:
            unlimited.inc()
            if limit.fail_closed:
                raise ServiceUnavailable(
                    "The rate-limit store cannot be reached; try again shortly.",
                    headers={"retry-after": "1"},
                ) from None
            _Warning.say(error)
            return await next_step(request)
        try:
            response = await next_step(request)
        except Problem as problem:  # a refused request still tells what is left
            problem.headers.update((k.decode(), v.decode()) for k, v in fields)
            raise
        response.headers += fields
        return response

    return limited


def limit_for(rate_limit: RateLimit | None, counters: Counters, settings: Any) -> Any:
    """The compiled limit of an operation, or None where it declares none."""
    if rate_limit is None:
        return None
    return OperationLimit(rate_limit, counters, settings.rate_limit_failure == "closed")
