"""A response as the ASGI server needs it: status, body bytes, headers."""

from __future__ import annotations

from dataclasses import dataclass, field

from backsmith.http.types import Send

# An answer for one caller only: no cache may keep it.
NO_STORE = (b"cache-control", b"no-store")


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    media_type: bytes | None = b"application/json"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def send(
        self, send: Send, head: bool = False, always: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        headers = [*self.headers, *always] if always else list(self.headers)
        if self.media_type is not None and self.status != 204 and self.status != 304:
            headers.append((b"content-type", self.media_type))
        if self.status != 204 and self.status != 304:
            headers.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        body = b"" if head or self.status in (204, 304) else self.body
        await send({"type": "http.response.body", "body": body})


def json_response(
    status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> Response:
    return Response(status, body, b"application/json", headers or [])


def empty(status: int = 204, headers: list[tuple[bytes, bytes]] | None = None) -> Response:
    return Response(status, b"", None, headers or [])
