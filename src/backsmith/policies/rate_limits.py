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
# Clients whose counter keys are kept, made again once past this many.
_KEYS_KEPT = 4096


class Limited(Protocol):
    """The facts the rate-limit step reads."""

    limit: OperationLimit | None


class OperationLimit:
    """One operation's windows, compiled: their counter keys and their policy field."""

    __slots__ = (
        "_keys",
        "_quoted",
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
        self._quoted = [b'"%s";r=' % name.encode() for name, *_ in self.windows]
        self.policy_field = ", ".join(
            f'"{name}";q={count};w={seconds}' for name, _, count, seconds in self.windows
        )
        self.policy_bytes = self.policy_field.encode()
        self.prefix = f"rl:{self.scope}:"
        self._keys: dict[Any, str] = {}  # a client's counter key, by its address

    def key_of(self, request: Request) -> str:
        """The counters' key of the request's caller (its address's, made once per client)."""
        principal = request.principal
        if principal is not None and principal.subject is not None:
            return self.prefix + caller_key(request)
        client = request.scope.get("client")
        host = client[0] if client else None
        key = self._keys.get(host)
        if key is None:
            if len(self._keys) >= _KEYS_KEPT:
                self._keys.clear()
            key = self._keys[host] = self.prefix + caller_key(request)
        return key

    def count_held(self, key: str, states: list[bytes]) -> bool:
        """Spend one unit of each window not yet in `states` from the units this process
        holds, adding each window's state; False at the first the store must be asked for
        (`count`). No coroutine for the usual request: it ends here."""
        take_held = self.counters.take_held
        windows = self.windows
        for index in range(len(states), len(windows)):
            counted = take_held(windows[index][1], key)
            if counted is None:
                return False
            states.append(self._state(index, counted))
        return True

    async def count(self, key: str, states: list[bytes]) -> None:
        """`count_held`, asking the store for the windows whose units are not held."""
        take = self.counters.take  # which uses the held units first, as `count_held` does
        windows = self.windows
        for index in range(len(states), len(windows)):
            states.append(self._state(index, await take(windows[index][1], key)))

    def _state(self, index: int, counted: Count) -> bytes:
        """A window's `RateLimit` member; 429 past the window (the longer ones not spent)."""
        remaining, reset = counted.remaining, math.ceil(counted.reset_s)
        state = b"%s%d;t=%d" % (self._quoted[index], remaining if remaining > 0 else 0, reset)
        if not counted.allowed:
            name = self.windows[index][0]
            wait = max(1, math.ceil(counted.reset_s))
            raise QuotaExceeded(
                f"Over the limit of {name.replace('-', ' ')}; try again in {wait} s.",
                headers={
                    "retry-after": str(wait),
                    "ratelimit-policy": self.policy_field,
                    "ratelimit": state.decode(),
                },
            )
        return state

    def fields(self, states: list[bytes]) -> list[tuple[bytes, bytes]]:
        """The fields a counted request is answered with."""
        return [(b"ratelimit-policy", self.policy_bytes), (b"ratelimit", b", ".join(states))]


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
        key = limit.key_of(request)
        states: list[bytes] = []
        try:
            if not limit.count_held(key, states):
                await limit.count(key, states)
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
        fields = limit.fields(states)
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
