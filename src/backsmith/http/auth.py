"""Who is calling: the subject of a bearer JWT, for rows that belong to the caller.

This is the part of authentication that links and per-caller computed values need: an
HS256 token signed with `BACKSMITH_JWT_SECRET`, its `exp` required and checked, its `sub`
naming the caller. A request without a token is anonymous; a bad token is a 401.
"""

from __future__ import annotations

from typing import Any

import jwt

from backsmith.errors import Unauthorized
from backsmith.http.request import Request

ALGORITHMS = ["HS256"]  # an explicit allow-list: "none" and key confusion are refused
LEEWAY_SECONDS = 60
_CHALLENGE = 'Bearer error="invalid_token"'


class Callers:
    """Reads the caller from a request's `Authorization: Bearer <jwt>` header."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def subject(self, request: Request) -> str | None:
        """The token's `sub`, None without a token; a token that fails any check is a 401."""
        header = request.header(b"authorization")
        if not header:
            return None
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() not in ("bearer", "token") or not token.strip():
            raise _refused("Send the token as 'Authorization: Bearer <token>'.")
        if not self.secret:
            raise _refused("This server accepts no tokens: BACKSMITH_JWT_SECRET is not set.")
        try:
            claims: dict[str, Any] = jwt.decode(
                token.strip(),
                self.secret,
                algorithms=ALGORITHMS,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise _refused(f"The token is not valid: {error}.") from None
        return str(claims["sub"])


def _refused(detail: str) -> Unauthorized:
    return Unauthorized(detail, headers={"www-authenticate": _CHALLENGE})  # type: ignore[no-any-return]


def missing() -> Unauthorized:
    """The answer to an anonymous call of an operation that acts for the caller."""
    return Unauthorized(  # type: ignore[no-any-return]
        "This operation acts for the caller; send 'Authorization: Bearer <token>'.",
        headers={"www-authenticate": "Bearer"},
    )


def unknown_caller() -> Unauthorized:
    """A valid token whose subject is no row of the callers' table."""
    return _refused("The token's subject names no known caller.")
