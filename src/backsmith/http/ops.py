"""Operational endpoints: liveness, readiness, the served contract and its docs page."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson

from backsmith.errors import NotFound
from backsmith.http.readiness import Ready
from backsmith.http.request import Request
from backsmith.http.response import NO_STORE, Response

HEALTH = b"application/health+json"
OpsHandler = Callable[[Request], Awaitable[Response]]

_STATIC_TYPES = {".js": b"text/javascript", ".css": b"text/css", ".png": b"image/png"}
_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="{static}/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "{spec}", dom_id: "#ui"}});</script>
</body></html>
"""


def _swagger_ui_dir() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


def ops_endpoints(
    prefix: str,
    docs: bool,
    published_openapi: bytes,
    title: str,
    ready: Ready,
) -> dict[str, OpsHandler]:
    """Path -> handler for each operational endpoint that is switched on; `ready` makes
    the readiness report (`http.readiness`)."""
    spec_body = published_openapi
    title = html.escape(title or "API")

    async def healthz(_: Request) -> Response:
        return Response(200, b'{"status":"pass"}', HEALTH)

    async def readyz(_: Request) -> Response:
        status, body = await ready()
        # A report is of this moment: no cache may answer the next probe with it.
        headers = [NO_STORE]
        if status == 503:
            headers.append((b"retry-after", b"1"))
        return Response(status, orjson.dumps(body), HEALTH, headers)

    endpoints: dict[str, OpsHandler] = {f"{prefix}/healthz": healthz, f"{prefix}/readyz": readyz}
    if not docs:
        return endpoints

    async def openapi(_: Request) -> Response:
        return Response(200, spec_body)

    page = _DOCS_PAGE.format(
        title=title, static=f"{prefix}/docs/static", spec=f"{prefix}/openapi.json"
    ).encode()

    async def docs_page(_: Request) -> Response:
        return Response(200, page, b"text/html; charset=utf-8")

    static_dir = _swagger_ui_dir()

    async def static(request: Request) -> Response:
        name = request.path_params.get("file", "")
        target = static_dir / name
        unsafe = "/" in name or "\x00" in name or name.startswith(".")
        if unsafe or target.suffix not in _STATIC_TYPES:
            raise NotFound("No such file.")
        try:
            content = target.read_bytes()
        except (OSError, ValueError):
            raise NotFound("No such file.") from None
        cache = [(b"cache-control", b"public, max-age=86400")]
        return Response(200, content, _STATIC_TYPES[target.suffix], cache)

    endpoints.update(
        {
            f"{prefix}/openapi.json": openapi,
            f"{prefix}/docs": docs_page,
            f"{prefix}/docs/static/{{file}}": static,
        }
    )
    return endpoints
