"""The parts of an ASGI request a handler reads, parsed lazily."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from backsmith.errors import BadRequest, PayloadTooLarge, RequestTimeout
from backsmith.http.types import Receive, Scope

if TYPE_CHECKING:  # security imports this module; the caller's type is only named here
    from backsmith.security.tokens import Principal


def raw_path(scope: Scope) -> str:
    """The request path as a URI reference, percent-encoded as the client sent it."""
    raw = scope.get("raw_path")
    if raw:
        return str(raw.decode("latin-1")).partition("?")[0]
    return quote(str(scope["path"]), safe="/:@!$&'()*+,;=~%")


# Where the router leaves the operation's plan, and the timing layer the steps' timings.
PLAN_KEY = "backsmith.plan"
TIMINGS_KEY = "backsmith.timings"
# The route template the router matched, and the caller its guard admitted (a Principal, or
# None), for the request's log line. The caller, not the Request: a Request holds the scope,
# and a scope holding its Request would be a cycle left to the garbage collector each time.
ROUTE_KEY = "backsmith.route"
CALLER_KEY = "backsmith.caller"
# The request's id (bytes), given by the outermost layer; an unhandled error is logged with it,
# and every answer carries it.
REQUEST_ID_KEY = "backsmith.request_id"
# The status of the answer sent, for the request's log line and metrics.
STATUS_KEY = "backsmith.status"
# The request's trace id, left by the tracing layer when tracing is on.
TRACE_ID_KEY = "backsmith.trace_id"
# Set by the server when it watches the body's arrival itself (`http/server.py`): the
# body is then read with no timer of the app's.
BODY_WATCHED_KEY = "backsmith.body_watched"


class Request:
    __slots__ = (
        "_query",
        "conditions",
        "keyed",
        "parsed",
        "path_params",
        "plan",
        "principal",
        "receive",
        "scope",
        "unit",
    )

    def __init__(
        self, scope: Scope, receive: Receive, path_params: dict[str, str], plan: Any = None
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.path_params = path_params
        self.plan = plan  # the operation's compiled plan; None for the service's own paths
        self._query: dict[str, list[str]] | None = None
        self.principal: Principal | None = (
            None  # the verified caller, once the operation's guard admits
        )
        self.parsed: Any = None  # the typed inputs, once the parse step has run
        # The database a step holds a transaction on for the operation's work (the
        # idempotency step), or None: the work takes a connection of its own.
        self.unit: Any = None
        # The idempotency record a create's one INSERT writes beside its row, or replays
        # from (policies.keyed_writes), when the idempotency step offers one; else None.
        self.keyed: Any = None
        # The entity tags of an item write's If-Match (or "*"), once the conditions step
        # has read them; None: the write is not conditional.
        self.conditions: Any = None

    @property
    def timings(self) -> list[tuple[str, int]] | None:
        """(step, nanoseconds from its start to its end, later steps included) per step run,
        innermost first; None when timing is off."""
        found: list[tuple[str, int]] | None = self.scope.get(TIMINGS_KEY)
        return found

    @property
    def path(self) -> str:
        return str(self.scope["path"])

    @property
    def raw_path(self) -> str:
        """The path as sent, percent-encoded (some clients put the query in raw_path too)."""
        return raw_path(self.scope)

    @property
    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            raw = self.scope.get("query_string", b"")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest("The query string is not valid UTF-8.") from None
            self._query = parse_qs(text, keep_blank_values=True) if text else {}
        return self._query

    def header(self, name: bytes) -> str | None:
        for key, value in self.scope["headers"]:
            if key == name:
                return str(value.decode("latin-1"))
        return None

    async def body(self, limit: int, timeout: float | None = None) -> bytes:
        """The whole body, refusing more than `limit` bytes whether or not it is chunked,
        and a client that sends nothing more for `timeout` seconds (408)."""
        declared = self.header(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                raise BadRequest("Content-Length is not a number.")
            if int(declared) > limit:
                raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
        chunks: list[bytes] = []
        size = 0
        if self.scope.get(BODY_WATCHED_KEY):
            timeout = None
        while True:
            if timeout is None:
                message: dict[str, Any] = dict(await self.receive())
            else:
                try:
                    async with asyncio.timeout(timeout):
                        message = dict(await self.receive())
                except TimeoutError:
                    raise RequestTimeout(
                        f"The body stopped arriving for {timeout:g} s; the connection is closed.",
                        headers={"connection": "close"},
                    ) from None
            if message["type"] == "http.disconnect":
                raise BadRequest("The client went away before the body was read.")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
