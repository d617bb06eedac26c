"""Credential readers: how each scheme finds and verifies what a request carries.

A reader answers None when the request carries nothing for its scheme, the caller a
valid credential names, or raises 401 for a credential of its kind that fails. Bearer
and prefixed JWTs go to the token verifier; API keys to the keys backsmith keeps; http
basic to the built-in accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any, Protocol

from backsmith.errors import Unauthorized
from backsmith.http.request import Request
from backsmith.model.types import API_KEY, BASIC, BEARER_JWT, PREFIXED_JWT, UNSUPPORTED, Scheme
from backsmith.security.accounts import AccountStore, client_address
from backsmith.security.store import MemoryStore, Store
from backsmith.security.tokens import Principal, TokenRejected, TokenVerifier
from backsmith.storage import api_keys
from backsmith.storage.queries import TableQueries

KEY_REMEMBERED_SECONDS = 1.0  # a revoked key stops working everywhere within a second

# What a caller with no requirements declared may present: a bearer token.
IMPLIED = Scheme("bearer", BEARER_JWT, "http")
BASIC_REALM = "backsmith"


def challenge_of(scheme: Scheme) -> str:
    """The `WWW-Authenticate` challenge that asks for a scheme's credential ("" for none).

    RFC 6750's `Bearer` for tokens (or the contract's own word, `Token`); `Basic` with a
    realm (RFC 7617); for an API key, which HTTP has no scheme for, `ApiKey` naming where
    the key goes. A scheme this version cannot verify is still named, so a client learns
    what the contract asks for.
    """
    if scheme.kind == API_KEY:
        return f'ApiKey in="{scheme.location}", name="{scheme.parameter}"'
    if scheme.kind == UNSUPPORTED and scheme.type == "apiKey":
        return "ApiKey"
    if scheme.prefix.lower() == "basic":
        return f'Basic realm="{BASIC_REALM}"'
    return scheme.prefix  # Bearer, Token, Digest; "" for a scheme without a challenge


class Reader(Protocol):
    """What every scheme's reader does: say who a request's credential names."""

    @property
    def scheme(self) -> Scheme: ...

    @property
    def challenge(self) -> str: ...

    async def read(self, request: Request) -> Principal | None: ...


@dataclass(frozen=True, slots=True)
class Credential:
    """How one scheme reads and verifies what a request carries."""

    scheme: Scheme
    verifier: TokenVerifier

    @property
    def challenge(self) -> str:
        return challenge_of(self.scheme)

    async def read(self, request: Request) -> Principal | None:
        """The caller it names; None when the request carries nothing for this scheme."""
        header = request.header(b"authorization")
        if not header:
            return None
        word, _, token = header.strip().partition(" ")
        if word.lower() != self.scheme.prefix.lower():
            return None  # another scheme's credential
        token = token.strip()
        if not token:
            raise invalid(self.challenge, "the Authorization header carries no token")
        try:
            return await self.verifier.verify(token, self.scheme.name)
        except TokenRejected as error:
            raise invalid(self.challenge, f"{error}.") from None


class KeyStore:
    """API keys looked up in the serving database, each answer remembered for a second."""

    def __init__(
        self,
        queries: TableQueries | None,
        database: Callable[[], Any],
        seen: Store[tuple[Principal | None]] | None = None,
    ) -> None:
        self.queries = queries
        self.database = database
        # Each answer, a refusal too, in a 1-tuple: a store's None means "not seen".
        self.seen: Store[tuple[Principal | None]] = seen if seen is not None else MemoryStore()

    async def principal(self, key: str, scheme: str) -> Principal | None:
        seen = await self.seen.get(key)
        if seen is not None:
            return seen[0]
        parts = api_keys.split(key)
        found = None
        if parts is not None and self.queries is not None:
            queries = self.queries
            row = await self.database().run(
                lambda conn: queries.fetch_one(conn, {"id": parts[0]}), False
            )
            if api_keys.matches(row, parts[1]):
                roles = frozenset(r for r in str(row["roles"]).split(",") if r)
                found = Principal(str(row["subject"]), roles, frozenset(), scheme)
        await self.seen.set(key, (found,), KEY_REMEMBERED_SECONDS)
        return found


@dataclass(frozen=True, slots=True)
class KeyCredential:
    """An apiKey kept by backsmith, in a header, a query parameter or a cookie."""

    scheme: Scheme
    store: KeyStore

    @property
    def challenge(self) -> str:
        return challenge_of(self.scheme)

    async def read(self, request: Request) -> Principal | None:
        key = self._presented(request)
        if key is None:
            return None
        principal = await self.store.principal(key, self.scheme.name)
        if principal is None:
            raise Unauthorized(
                "The API key is not valid, or it was revoked.",
                headers={"www-authenticate": self.challenge},
            )
        return principal

    def _presented(self, request: Request) -> str | None:
        name = self.scheme.parameter
        if self.scheme.location == "header":
            value = request.header(name.encode("latin-1"))
        elif self.scheme.location == "query":
            values = request.query.get(name)
            value = values[0] if values else None
        else:
            value = _cookie(request, name)
        return value.strip() if value and value.strip() else None


@dataclass(frozen=True, slots=True)
class BasicCredential:
    """`Authorization: Basic`, checked against the built-in accounts."""

    scheme: Scheme
    accounts: AccountStore

    @property
    def challenge(self) -> str:
        return challenge_of(self.scheme)

    async def read(self, request: Request) -> Principal | None:
        header = request.header(b"authorization")
        if not header:
            return None
        word, _, value = header.strip().partition(" ")
        if word.lower() != "basic":
            return None
        try:
            return await self.accounts.basic(
                value.strip(), self.scheme.name, client_address(request)
            )
        except Unauthorized:
            raise Unauthorized(
                "The account name or the password is wrong.",
                headers={"www-authenticate": self.challenge},
            ) from None


def _cookie(request: Request, name: str) -> str | None:
    header = request.header(b"cookie")
    if not header:
        return None
    try:
        jar = SimpleCookie(header)
    except CookieError:
        return None
    return jar[name].value if name in jar else None


def invalid(challenge: str, detail: str) -> Unauthorized:
    header = f'{challenge} error="invalid_token"'
    return Unauthorized(
        f"The credentials are not valid: {detail}", headers={"www-authenticate": header}
    )


def credentials_for(
    schemes: Mapping[str, Scheme],
    verifier: TokenVerifier,
    store: KeyStore,
    accounts: AccountStore | None = None,
) -> dict[str, Reader]:
    """A credential reader per scheme this version verifies (IMPLIED when none is declared)."""
    usable: dict[str, Reader] = {}
    for name, scheme in schemes.items():
        if scheme.kind in (BEARER_JWT, PREFIXED_JWT):
            usable[name] = Credential(scheme, verifier)
        elif scheme.kind == API_KEY:
            usable[name] = KeyCredential(scheme, store)
        elif scheme.kind == BASIC and accounts is not None:
            usable[name] = BasicCredential(scheme, accounts)
    return usable or {IMPLIED.name: Credential(IMPLIED, verifier)}
