"""How a prose spec says callers authenticate, and which endpoints it says need it.

A bearer token (`Authorization: Bearer <token>`), a session cookie (`` `sid` `` beside the
word cookie) or an API-key header (`X-Api-Key`) becomes a security scheme. Said once
before the endpoints, it applies to all of them but those the same sentence excepts
(`... except POST /auth/login`); said in an endpoint's section (a header line, an
"Auth: required" fact), it applies there. With nothing said for all, an endpoint whose
section says nothing is open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from backsmith.contract.draft.details import BEARER_WORDS, Details
from backsmith.contract.draft.endpoints import Endpoint
from backsmith.contract.draft.mentions import ENDPOINT_IN_TEXT
from backsmith.contract.draft.paths import template
from backsmith.contract.draft.scan import FENCE, HEADING, Element

BEARER, COOKIE, API_KEY = "bearerAuth", "cookieAuth", "apiKeyAuth"
_COOKIE = re.compile(r"cookie", re.I)
_BEARER_SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
_CODE = re.compile(r"`([\w.-]+)`")
_API_KEY_HEADER = re.compile(
    r"`?(X-[\w-]*(?:Api|API)[\w-]*(?:Key|KEY|Token|TOKEN)|X-API-KEY|Api-Key|API-Key)`?"
)
_NO_COOKIE = re.compile(r"\b(?:no|not|never|without)\b[^.]*cookie", re.I)
_EXCEPT = re.compile(
    r"\bexcept|\bbut\b|\bexcluding\b|\bunless\b|\bother than\b|제외|除了|除外|außer|"
    r"ausgenommen|exceto|excepto|salvo|sauf|ngoại trừ|trừ|кроме",
    re.I,
)
_SIGN_IN = re.compile(
    r"(?:dev-?)?(?:log-?in|sign-?in|sign-?up|register|refresh|token|authenticate)", re.I
)


@dataclass(slots=True)
class Auth:
    """The schemes the spec states, the one stated for all endpoints, and its exceptions."""

    schemes: dict[str, dict[str, Any]] = field(default_factory=dict)
    default: str = ""
    default_line: int = 0
    open: set[tuple[str, str]] = field(default_factory=set)  # (method, path) excepted
    lines: dict[str, int] = field(default_factory=dict)  # scheme -> where it was first said

    def add(self, name: str, scheme: dict[str, Any], line: int) -> None:
        """Keep a scheme the text states, and the first line stating it."""
        self.schemes.setdefault(name, scheme)
        self.lines.setdefault(name, line)


def read_auth(elements: list[Element], first: int, base: str) -> Auth:
    """What the text before the first endpoint (elements up to `first`) says of auth."""
    auth = Auth()
    for element in elements[:first]:
        texts = [element.text] if element.kind != FENCE else element.text.splitlines()
        for text in texts:
            if BEARER_WORDS.search(text):
                auth.add(BEARER, dict(_BEARER_SCHEME), element.line)
                _default(auth, BEARER, element.line)
                _exceptions(auth, text, base)
            elif _COOKIE.search(text) and element.kind != HEADING and not _NO_COOKIE.search(text):
                names = _CODE.findall(text)
                if names:
                    scheme = {"type": "apiKey", "in": "cookie", "name": names[0]}
                    auth.add(COOKIE, scheme, element.line)
                    _default(auth, COOKIE, element.line)
            elif header := _API_KEY_HEADER.search(text):
                scheme = {"type": "apiKey", "in": "header", "name": header[1]}
                auth.add(API_KEY, scheme, element.line)
                _default(auth, API_KEY, element.line)
    return auth


def _exceptions(auth: Auth, text: str, base: str) -> None:
    """`... except POST /auth/login`: the endpoints a sentence stating the scheme excepts,
    those written after a word of exception."""
    marker = _EXCEPT.search(text)
    if marker is None:
        return
    for match in ENDPOINT_IN_TEXT.finditer(text, marker.end()):
        path = template(match["path"])[0]
        auth.open.add((match["method"], path))
        if base and not path.startswith(base):
            auth.open.add((match["method"], base.rstrip("/") + path))


def _default(auth: Auth, scheme: str, line: int) -> None:
    if not auth.default:
        auth.default, auth.default_line = scheme, line


def signs_in(endpoint: Endpoint) -> bool:
    """`POST /auth/login`, `/register`, `/token`...: what a caller calls to get signed in."""
    last = endpoint.path.rstrip("/").rsplit("/", 1)[-1].lower()
    return endpoint.method == "POST" and bool(_SIGN_IN.fullmatch(last))


def security_of(
    endpoint: Endpoint, details: Details, auth: Auth
) -> tuple[list[dict[str, list[str]]] | None, str]:
    """The operation's `security` (None to leave it to the document's), and the guess made
    for it, if any."""
    if details.auth == "none" or (endpoint.method, endpoint.path) in auth.open:
        return [], ""
    if signs_in(endpoint):
        return [], "open: signing in cannot need a signed-in caller"
    if details.auth == "bearer":
        auth.add(BEARER, dict(_BEARER_SCHEME), endpoint.primary.line)
        return [{BEARER: []}], ""
    header = next((h.name for h in details.headers if _API_KEY_HEADER.fullmatch(h.name)), None)
    if header:
        auth.add(API_KEY, {"type": "apiKey", "in": "header", "name": header}, endpoint.primary.line)
        return [{API_KEY: []}], ""
    if not auth.default:  # nothing said for all: open, unless its own section said
        return [], ""
    return None, ""
