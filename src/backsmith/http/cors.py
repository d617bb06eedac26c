"""Cross-origin requests: closed unless origins are configured, then Starlette's middleware.

No `Access-Control-Allow-Origin` is ever sent by default. With `BACKSMITH_CORS_ORIGINS`
set, the listed origins may call, with the methods the contract declares and the
headers it reads; any other origin gets no CORS headers. `*` together with credentials
is refused at start-up: Starlette would answer it by echoing any caller's origin.
"""

from __future__ import annotations

from typing import Any

from backsmith.errors import InputError
from backsmith.model.types import Model
from backsmith.settings import Settings, names


class CorsRefused(InputError):
    """A CORS setting that would open the API wider than it says."""


def with_cors(app: Any, model: Model, settings: Settings) -> Any:
    """`app` behind CORS handling when origins are configured; `app` itself otherwise."""
    origins = sorted(names(settings.cors_origins))
    if not origins:
        return app
    if "*" in origins and settings.cors_credentials:
        raise CorsRefused(
            "BACKSMITH_CORS_ORIGINS='*' with BACKSMITH_CORS_CREDENTIALS would let any site "
            "call with the user's credentials: list the origins instead"
        )
    from starlette.middleware.cors import CORSMiddleware

    methods = sorted({op.method for op in model.operations} | {"GET", "HEAD"})
    headers = {"authorization", "content-type", "if-match", "if-none-match"}
    for op in model.operations:
        headers |= {p.name.lower() for p in op.params if p.location == "header"}
    for scheme in model.schemes.values():
        if scheme.location == "header":
            headers.add(scheme.parameter.lower())
    return CORSMiddleware(
        app,
        allow_origins=origins,
        allow_methods=methods,
        allow_headers=sorted(headers),
        allow_credentials=settings.cors_credentials,
        expose_headers=["link", "location", "www-authenticate"],
        max_age=600,
    )
