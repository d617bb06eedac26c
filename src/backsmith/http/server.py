"""The protocols the server may run; `ProblemHTTPProtocol` is the one `serve` names.

Where httptools is installed (as `backsmith serve` installs it) that is our own
`backsmith.http.connection.Connection`. The pure-Python protocol below is uvicorn's h11
one, answering a request it cannot parse, and a connection past `max_connections`, in
problem+json as ours does; what stays `text/plain` is listed in docs/http-errors.md.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from backsmith.http.refusals import REFUSAL_HEADERS, UNPARSABLE, overloaded


class ProblemH11Protocol(H11Protocol):
    """The pure-Python protocol, used where httptools is not installed."""

    def send_400_response(self, msg: str) -> None:
        headers = [*self.server_state.default_headers, *REFUSAL_HEADERS]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=UNPARSABLE),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()


ProblemHTTPProtocol: type[asyncio.Protocol]
try:
    from backsmith.http.connection import Connection
except ImportError:  # pragma: no cover - httptools is optional for uvicorn
    ProblemHTTPProtocol = ProblemH11Protocol
else:
    ProblemHTTPProtocol = Connection


def _adapt_uvicorn() -> None:
    """uvicorn's h11 protocol answers past its connection cap with its module's
    `service_unavailable`, in text/plain; ours answer in problem+json."""
    from uvicorn.protocols.http import h11_impl

    h11_impl.service_unavailable = overloaded  # type: ignore[attr-defined]


_adapt_uvicorn()
