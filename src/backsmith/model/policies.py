"""Per-operation policies read from `x-backsmith`: rate limit, idempotency, handler, latency.

Each key may sit at the root (every operation), on a path item or on an operation; the
nearest one wins. Values are parsed into typed policies here, and a bad value is a
contract error naming the file, line and pointer. Keys this version does not serve yet
are refused by the vocabulary (see `SERVED`), so no contract is served while part of it
is silently ignored; their values are checked all the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from backsmith.contract.load import Contract
from backsmith.contract.source import escape
from backsmith.errors import Issue

EXTENSION = "x-backsmith"
POLICY_KEYS = (
    "rate-limit",
    "idempotency",
    "require-if-match",
    "cache",
    "handler",
    "transition",
    "slo",
)
# Policy keys the request path acts on; the others are refused until it does.
SERVED: frozenset[str] = frozenset(
    {"handler", "transition", "rate-limit", "idempotency", "require-if-match", "cache", "slo"}
)

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*$")
_HANDLER = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):([A-Za-z_]\w*)$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$")
_AGE = re.compile(r"^\s*(\d+)\s*(s|m|h)\s*$")
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600}
_PERCENTILES = ("p95", "p99")


class Idempotency(StrEnum):
    REQUIRED = "required"  # a write without an Idempotency-Key is refused
    OPTIONAL = "optional"  # a key is honoured when sent


@dataclass(frozen=True, slots=True)
class Window:
    """`count` requests per `period` (a caller, or a client address when anonymous)."""

    count: int
    period: str  # second, minute, hour, day

    @property
    def seconds(self) -> int:
        return _PERIODS[self.period]

    def describe(self) -> str:
        return f"{self.count}/{self.period}"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One or more windows a caller's requests must all fit in.

    The operations under one declaration share its counters: a root limit counts every
    operation a caller calls, a path item's counts its methods together, an operation's
    its own. `scope` is the pointer of that declaration.
    """

    windows: tuple[Window, ...]
    scope: str = ""

    def describe(self) -> str:
        return ", ".join(window.describe() for window in self.windows)


@dataclass(frozen=True, slots=True)
class Handler:
    """The function that serves an operation: `module:function`."""

    module: str
    function: str

    def describe(self) -> str:
        return f"{self.module}:{self.function}"


@dataclass(frozen=True, slots=True)
class Transition:
    """Move the row the path names to the state `to` (`POST /orders/{id}/cancel`)."""

    to: str
    resource: str = ""  # the resource whose row moves, found when the model is built
    # (path parameter, property) pairs naming the row, as the item's own path names it
    key: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        return f"transition to {self.to}"


@dataclass(frozen=True, slots=True)
class Slo:
    """Latency budgets in milliseconds, and the rate (requests per second) they are meant
    to hold at: `/readyz` warns when recent requests run over a budget (http.budgets)."""

    p95_ms: float | None = None
    p99_ms: float | None = None
    rps: float | None = None

    def budgets(self) -> list[tuple[str, float]]:
        """(percentile, milliseconds) of each declared budget, p99 first: the one a
        readiness warning names when both are over."""
        found = [(name, getattr(self, f"{name}_ms")) for name in reversed(_PERCENTILES)]
        return [(name, value) for name, value in found if value is not None]

    def describe(self) -> str:
        parts = [(name, getattr(self, f"{name}_ms")) for name in _PERCENTILES]
        said = [f"{name} {value:g}ms" for name, value in parts if value is not None]
        if self.rps is not None:
            said.append(f"{self.rps:g} rps")
        return ", ".join(said)


@dataclass(frozen=True, slots=True)
class Policies:
    """Everything an operation's plan applies around its work, beyond access."""

    rate_limit: RateLimit | None = None
    idempotency: Idempotency | None = None
    # PUT, PATCH and DELETE without If-Match are refused (428): no blind overwrite
    require_if_match: bool = False
    cache_seconds: int | None = None  # a read's answers kept this long (0: not cached)
    handler: Handler | None = None
    transition: Transition | None = None
    slo: Slo | None = None

    @property
    def serves(self) -> bool:
        """Whether something other than CRUD serves the operation: a handler, a transition."""
        return self.handler is not None or self.transition is not None

    def describe(self) -> str:
        """The policies as `backsmith model` shows them; empty when there are none."""
        parts = []
        if self.rate_limit is not None:
            parts.append(f"rate-limit {self.rate_limit.describe()}")
        if self.idempotency is not None:
            parts.append(f"idempotency {self.idempotency}")
        if self.require_if_match:
            parts.append("require-if-match")
        if self.cache_seconds:
            parts.append(f"cache {self.cache_seconds}s")
        if self.handler is not None:
            parts.append(f"handler {self.handler.describe()}")
        if self.transition is not None:
            parts.append(self.transition.describe())
        if self.slo is not None:
            parts.append(f"slo {self.slo.describe()}")
        return ", ".join(parts)


NO_POLICIES = Policies()


def policy_issue(key: str, value: Any) -> str | None:
    """What is wrong with one policy value, or None."""
    return _parse(key, value)[1]


def read_policies(contract: Contract, path: str, method: str) -> tuple[Policies, list[Issue]]:
    """The policies of one operation: its own keys, else its path item's, else the root's."""
    found: dict[str, Any] = {}
    issues: list[Issue] = []
    for pointer, ext in _levels(contract, path, method):
        for key in POLICY_KEYS:
            if key in found or key not in ext:
                continue
            value, problem = _parse(key, ext[key])
            if problem is not None:
                where = f"{pointer}/{EXTENSION}/{escape(key)}"
                issues.append(contract.issue(problem, where))
            elif isinstance(value, RateLimit):
                found[key] = RateLimit(value.windows, pointer)  # counted where declared
            else:
                found[key] = value
    policies = Policies(
        rate_limit=found.get("rate-limit"),
        idempotency=found.get("idempotency"),
        require_if_match=found.get("require-if-match", False),
        cache_seconds=found.get("cache"),
        handler=found.get("handler"),
        transition=found.get("transition"),
        slo=found.get("slo"),
    )
    return (NO_POLICIES if policies == NO_POLICIES else policies), issues  # one shared "none"


def _levels(contract: Contract, path: str, method: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, x-backsmith) of the operation, its path item and the root, nearest first."""
    document = contract.document
    item = (document.get("paths") or {}).get(path) or {}
    op = item.get(method) if isinstance(item, dict) else None
    where = f"/paths/{escape(path)}"
    for pointer, holder in ((f"{where}/{method}", op), (where, item), ("", document)):
        ext = holder.get(EXTENSION) if isinstance(holder, dict) else None
        if isinstance(ext, dict):
            yield pointer, ext


def _parse(key: str, value: Any) -> tuple[Any, str | None]:
    parse = _PARSERS.get(key)
    return (None, None) if parse is None else parse(value)


def _rate_limit(value: Any) -> tuple[RateLimit | None, str | None]:
    written = value if isinstance(value, list) and value else [value]
    windows: list[Window] = []
    for item in written:
        found = _RATE.match(item) if isinstance(item, str) else None
        if found is None or int(found.group(1)) < 1:
            expected = (
                "a count per period, e.g. '100/minute' (second, minute, hour or day), "
                "or a list of them"
            )
            return None, f"{EXTENSION} 'rate-limit' must be {expected}, not {item!r}"
        window = Window(int(found.group(1)), found.group(2))
        if any(other.period == window.period for other in windows):
            return None, f"{EXTENSION} 'rate-limit' has two windows of one {window.period}"
        windows.append(window)
    return RateLimit(tuple(sorted(windows, key=lambda w: w.seconds))), None


def _idempotency(value: Any) -> tuple[Idempotency | None, str | None]:
    if value not in tuple(Idempotency):
        return None, f"{EXTENSION} 'idempotency' must be required or optional, not {value!r}"
    return Idempotency(value), None


def _require_if_match(value: Any) -> tuple[bool | None, str | None]:
    if not isinstance(value, bool):
        return None, f"{EXTENSION} 'require-if-match' must be true or false, not {value!r}"
    return value, None


def _cache(value: Any) -> tuple[int | None, str | None]:
    if value is False:
        return 0, None  # not cached, whatever a path item or the root says
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value, None
    found = _AGE.match(value) if isinstance(value, str) else None
    if found is None or int(found.group(1)) < 1:
        expected = "an age such as 30s, 5m or 1h (or false: not cached)"
        return None, f"{EXTENSION} 'cache' must be {expected}, not {value!r}"
    return int(found.group(1)) * _AGE_UNITS[found.group(2)], None


def _handler(value: Any) -> tuple[Handler | None, str | None]:
    found = _HANDLER.match(value) if isinstance(value, str) else None
    if found is None:
        expected = "'module:function', e.g. 'shop.hooks:cancel_order'"
        return None, f"{EXTENSION} 'handler' must be {expected}, not {value!r}"
    return Handler(found.group(1), found.group(2)), None


def _transition(value: Any) -> tuple[Transition | None, str | None]:
    to = value.get("to") if isinstance(value, dict) and set(value) == {"to"} else None
    if not isinstance(to, str) or not to:
        expected = "{to: <state>}, e.g. {to: cancelled}"
        return None, f"{EXTENSION} 'transition' must be {expected}, not {value!r}"
    return Transition(to), None


def _slo(value: Any) -> tuple[Slo | None, str | None]:
    expected = (
        "a mapping of p95 and p99 to durations, and an optional rps, "
        "e.g. {p95: 50ms, p99: 200ms, rps: 500}"
    )
    if not isinstance(value, dict) or not value:
        return None, f"{EXTENSION} 'slo' must be {expected}"
    budgets: dict[str, float] = {}
    for name, duration in value.items():
        if name == "rps":
            rate = _positive(duration)
            if rate is None:
                return None, f"{EXTENSION} 'slo' rps must be a positive number, such as 500"
            budgets["rps"] = rate
            continue
        if name not in _PERCENTILES:
            return None, f"{EXTENSION} 'slo' has no percentile '{name}' (p95, p99; or rps)"
        milliseconds = _milliseconds(duration)
        if milliseconds is None:
            return None, f"{EXTENSION} 'slo' {name} must be a duration such as 50ms or 1s"
        budgets[f"{name}_ms"] = milliseconds
    slo = Slo(**budgets)
    if slo.p95_ms is None and slo.p99_ms is None:
        return None, f"{EXTENSION} 'slo' declares no budget: give p95, p99 or both"
    if slo.p95_ms is not None and slo.p99_ms is not None and slo.p99_ms < slo.p95_ms:
        return None, f"{EXTENSION} 'slo' p99 cannot be below p95"
    return slo, None


def _positive(number: Any) -> float | None:
    if isinstance(number, int | float) and not isinstance(number, bool):
        return float(number) if 0 < number < float("inf") else None
    return None


def _milliseconds(duration: Any) -> float | None:
    if isinstance(duration, int | float) and not isinstance(duration, bool):
        return float(duration) if duration > 0 else None
    found = _DURATION.match(duration) if isinstance(duration, str) else None
    if found is None or float(found.group(1)) <= 0:
        return None
    number = float(found.group(1))
    return number * 1000 if found.group(2) == "s" else number


_PARSERS: dict[str, Callable[[Any], tuple[Any, str | None]]] = {
    "rate-limit": _rate_limit,
    "idempotency": _idempotency,
    "require-if-match": _require_if_match,
    "cache": _cache,
    "transition": _transition,
    "handler": _handler,
    "slo": _slo,
}


# Operations that never take an Idempotency-Key: an account's answer holds its tokens,
# which no record may keep.
_NO_KEYS = frozenset({"register", "login", "refresh", "logout", "me"})


def idempotency_of(operation: Any) -> Idempotency | None:
    """Whether an operation honours Idempotency-Key: as declared on a POST or PATCH, and
    optional on every other POST (the IETF draft's default for non-idempotent methods)."""
    if operation.method not in ("POST", "PATCH") or str(operation.kind) in _NO_KEYS:
        return None
    declared: Idempotency | None = operation.policies.idempotency
    if declared is not None or operation.method == "PATCH":
        return declared
    return Idempotency.OPTIONAL
