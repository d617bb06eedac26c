"""Built-in accounts: register, login, refresh, logout and me, over the contract's table.

Request and response bodies are the contract's: a body names the account by one of its
unique columns (email, username) and carries `password`; responses are shaped like any
other item of the accounts table (wrappers, camelCase, profile fields), with the issued
access token in the property named `token`, `access_token` or `accessToken` (or
`x-backsmith: {token-field: ...}`) and the refresh token in `refresh_token` or
`refreshToken`. Access tokens are HS256 JWTs signed with `BACKSMITH_JWT_SECRET`, short-lived;
refresh tokens rotate (see `storage.sessions`). Logins are limited per account and per
client address, and answer alike for an unknown account and a wrong password.
"""

from __future__ import annotations

import base64
import functools
import hmac
import ipaddress
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jwt
import sqlalchemy as sa

from backsmith.errors import ServiceUnavailable, TooManyRequests, Unauthorized, ValidationFailed
from backsmith.http.request import Request
from backsmith.model.types import Accounts, Operation, Resource
from backsmith.policies.counters import Counters, CountersDown, parse_limit
from backsmith.security.passwords import Passwords, weakness
from backsmith.security.store import MemoryStore, Store
from backsmith.security.tokens import Principal
from backsmith.settings import Settings
from backsmith.storage import sessions
from backsmith.storage.api_keys import digest
from backsmith.storage.queries import TableQueries
from backsmith.storage.related import caller_value
from backsmith.storage.values import from_json

log = logging.getLogger("backsmith")

TOKEN_FIELDS = ("token", "access_token", "accessToken")
REFRESH_FIELDS = ("refresh_token", "refreshToken")
PASSWORD_FIELDS = ("password", "pass", "passwd")
_CHALLENGE = 'Bearer realm="accounts"'
_REMEMBERED_BASIC_SECONDS = 60.0


def _wrong() -> Unauthorized:
    # One answer for an unknown account and a wrong password: which one is not told.
    return Unauthorized(
        "The account name or the password is wrong.", headers={"www-authenticate": _CHALLENGE}
    )


def roles_of(value: Any) -> frozenset[str]:
    """An account's roles from its roles column: a list, or text separated by commas."""
    if isinstance(value, list | tuple):
        return frozenset(str(v) for v in value if v)
    if isinstance(value, str):
        return frozenset(part.strip() for part in value.split(",") if part.strip())
    return frozenset()


class LoginLimiter:
    """Login attempts per account and per client address, in a sliding window."""

    def __init__(self, limit: str, counters: Counters, fail_closed: bool = False) -> None:
        self.limit = parse_limit(limit)
        self.counters = counters
        self.fail_closed = fail_closed

    async def spend(self, account: str, address: str) -> None:
        """One attempt on both counters, or 429 when either is spent (charging neither)."""
        keys = (f"login:account:{account.strip().lower()}", f"login:address:{network_of(address)}")
        try:
            for key in keys:
                if not await self.counters.allows(self.limit, key):
                    wait = max(1, int(await self.counters.reset_in(self.limit, key)) + 1)
                    raise TooManyRequests(
                        "Too many login attempts; try again later.",
                        headers={"retry-after": str(wait)},
                    )
            for key in keys:
                await self.counters.hit(self.limit, key)
        except CountersDown as error:
            if self.fail_closed:
                raise ServiceUnavailable(
                    "The login-limit store cannot be reached; try again shortly.",
                    headers={"retry-after": "1"},
                ) from None
            log.warning("%s; a login is let through without its limit", error)


def caller_key(request: Request) -> str:
    """Whom a request counts for: its principal, else its client's network."""
    principal = request.principal
    if principal is not None and principal.subject is not None:
        return "subject:" + principal.subject
    return "address:" + network_of(client_address(request))


@functools.lru_cache(maxsize=4096)  # a busy client is parsed once, not per request
def network_of(address: str) -> str:
    """The client's address, an IPv6 one by its /64: one host holds a whole /64."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


class AccountStore:
    """The accounts table as logins and http basic read it; one per app."""

    def __init__(
        self,
        accounts: Accounts,
        resource: Resource,
        tables: dict[str, sa.Table],
        settings: Settings,
        database: Callable[[], Any],
        verified: Store[Principal] | None = None,
        counters: Counters | None = None,
    ) -> None:
        self.accounts = accounts
        self.resource = resource
        self.table = tables[accounts.table]
        self.queries = TableQueries(self.table)
        self.sessions = TableQueries(tables[sessions.SESSIONS_TABLE])
        self.database = database
        self.settings = settings
        self.passwords = Passwords()
        self.limiter = LoginLimiter(
            settings.login_rate_limit,
            counters if counters is not None else Counters(),
            settings.rate_limit_failure == "closed",
        )
        self.key = resource.primary_key[0]
        # Verified http basic headers, by digest: a check costs a password hash.
        self.verified: Store[Principal] = verified if verified is not None else MemoryStore()

    # ------------------------------------------------------------ tokens
    def access_token(self, row: Any) -> str:
        settings = self.settings
        if not settings.jwt_secret:
            raise ServiceUnavailable(
                "This server cannot issue tokens: BACKSMITH_JWT_SECRET is not set."
            )
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": str(row[self.key]),
            "iat": now,
            "exp": now + settings.access_token_seconds,
            settings.roles_claim: sorted(self.roles(row)),
        }
        if settings.jwt_issuer:
            claims["iss"] = settings.jwt_issuer
        if settings.jwt_audience:
            claims["aud"] = settings.jwt_audience
        return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")

    def roles(self, row: Any) -> frozenset[str]:
        column = self.accounts.roles_column
        return roles_of(row[column]) if column is not None else frozenset()

    # ------------------------------------------------------------ reading
    async def find(self, conn: Any, identifier: str, value: Any) -> Any:
        return await self.queries.fetch_one(conn, {identifier: value})

    async def by_subject(self, conn: Any, subject: str | None) -> Any:
        value = caller_value(self.table.c[self.key], subject)
        if value is None:
            return None
        return await self.queries.fetch_one(conn, {self.key: value})

    async def check(self, conn: Any, identifier: str, value: Any, password: str) -> Any:
        """The account a name and password open, or a uniform 401; rehashes old hashes."""
        row = await self.find(conn, identifier, value)
        stored = row[self.accounts.password_column] if row is not None else None
        ok, stale = await self.passwords.verify(stored, password)
        if not ok:
            raise _wrong()
        if stale:
            fresh = await self.passwords.hash(password)
            column = self.accounts.password_column
            await self.queries.update(conn, {self.key: row[self.key]}, {column: fresh})
        return row

    async def forget(self) -> None:
        """Drop remembered http basic checks (a password changed)."""
        await self.verified.delete_all()

    async def basic(self, header: str, scheme: str, address: str) -> Principal:
        """The account `Authorization: Basic` names, remembered a minute once verified."""
        remembered_as = digest(header)
        remembered = await self.verified.get(remembered_as)
        if remembered is not None:
            return remembered
        try:
            name, _, password = base64.b64decode(header, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise _wrong() from None
        # Each check costs a hash: limited like logins (a verified header is remembered).
        await self.limiter.spend(name, address)
        identifier = self.accounts.identifiers[0]
        row = await self.database().run(
            lambda conn: self.check(conn, identifier, name, password), False
        )
        principal = Principal(str(row[self.key]), self.roles(row), frozenset(), scheme)
        await self.verified.set(remembered_as, principal, _REMEMBERED_BASIC_SECONDS)
        return principal


class AccountPlan:
    """One account operation: which body properties carry what, where tokens go."""

    def __init__(self, operation: Operation, store: AccountStore) -> None:
        self.operation = operation
        self.store = store
        self.kind = operation.kind
        facts = operation.account
        assert facts is not None, "an account operation carries its account facts"
        self.body_wrapper = facts.body_wrapper
        body = facts.body_properties
        self.body_pointer = f"#/{self.body_wrapper}" if self.body_wrapper else "#"
        self.password = next((n for n in body if n in PASSWORD_FIELDS), None)
        if self.password is None:
            self.password = next(iter(facts.write_only), None)
        self.identifiers = [
            (name, field.column)
            for name in body
            if (field := store.resource.field(name)) is not None
            and field.column in store.accounts.identifiers
        ]
        self.refresh_in = next((n for n in (*REFRESH_FIELDS, "token") if n in body), None)
        self.response_wrapper = facts.answer_wrapper
        answered = facts.answer_properties
        self.token_out = operation.token_field or next(
            (n for n in TOKEN_FIELDS if n in answered), None
        )
        self.refresh_out = next((n for n in REFRESH_FIELDS if n in answered), None)
        self.type_out = next((n for n in ("token_type", "tokenType") if n in answered), None)
        self.expires_out = next((n for n in ("expires_in", "expiresIn") if n in answered), None)

    def unwrap(self, body: Any) -> dict[str, Any]:
        """The object a request body carries, inside its wrapper; 422 when there is none."""
        if self.body_wrapper is not None and isinstance(body, dict):
            body = body.get(self.body_wrapper)
        if not isinstance(body, dict):
            raise ValidationFailed([{"detail": "the body must be a JSON object", "pointer": "#"}])
        return body

    def wrap(self, item: dict[str, Any]) -> dict[str, Any]:
        return {self.response_wrapper: item} if self.response_wrapper else item

    def credentials(self, item: dict[str, Any], at: str) -> tuple[str, Any, str]:
        """(column, value, password) a login body names; 422 when one is missing."""
        errors = []
        found = next(((n, c) for n, c in self.identifiers if item.get(n) is not None), None)
        if found is None:
            names = " or ".join(n for n, _ in self.identifiers) or "an account name"
            errors.append({"detail": f"send {names}", "pointer": at})
        password = item.get(self.password) if self.password else None
        if not isinstance(password, str):
            errors.append({"detail": "send the password", "pointer": f"{at}/{self.password}"})
        if errors or found is None:
            raise ValidationFailed(errors)
        name, column = found
        field = self.store.resource.field(column)
        assert field is not None
        return column, from_json(field, item[name]), str(password)

    def new_password(self, item: dict[str, Any], at: str, required: bool) -> str | None:
        password = item.pop(self.password, None) if self.password else None
        if password is None:
            if required:
                pointer = f"{at}/{self.password or 'password'}"
                raise ValidationFailed([{"detail": "send a password", "pointer": pointer}])
            return None
        problem = weakness(password)
        if problem is not None:
            pointer = f"{at}/{self.password}"
            raise ValidationFailed([{"detail": f"the password {problem}", "pointer": pointer}])
        return str(password)

    async def tokens(self, conn: Any, row: Any, family: str | None) -> dict[str, Any]:
        """The properties a response carries tokens in, for the account in `row`."""
        found: dict[str, Any] = {}
        store = self.store
        if self.token_out is not None:
            found[self.token_out] = store.access_token(row)
        if self.refresh_out is not None:
            found[self.refresh_out] = await sessions.issue(
                conn,
                store.sessions,
                str(row[store.key]),
                family,
                store.settings.refresh_token_seconds,
            )
        if self.type_out is not None:
            found[self.type_out] = "Bearer"
        if self.expires_out is not None:
            found[self.expires_out] = store.settings.access_token_seconds
        return found

    async def refreshed(self, conn: Any, presented: Any) -> tuple[Any, str | None, bool]:
        """(account row, family) for a presented refresh token; reused: (None, family, True)."""
        parts = sessions.split(presented)
        if parts is None:
            return None, None, False
        store = self.store
        row = await store.sessions.fetch_one(conn, {"id": parts[0]}, for_update=True)
        if row is None or row["revoked_at"] or not _same(row["secret_sha256"], parts[1]):
            return None, None, False
        if row["used_at"] is not None:
            await sessions.revoke_family(conn, store.sessions, row["family"])
            return None, row["family"], True
        if _aware(row["expires_at"]) <= datetime.now(UTC):
            return None, None, False
        await store.sessions.update(conn, {"id": row["id"]}, {"used_at": datetime.now(UTC)})
        account = await store.by_subject(conn, row["subject"])
        return account, row["family"], False

    async def logout(self, conn: Any, presented: Any, principal: Principal | None) -> None:
        store = self.store
        parts = sessions.split(presented)
        if parts is not None:
            row = await store.sessions.fetch_one(conn, {"id": parts[0]})
            mine = principal is None or (row is not None and row["subject"] == principal.subject)
            if row is not None and mine and _same(row["secret_sha256"], parts[1]):
                await sessions.revoke_family(conn, store.sessions, row["family"])
                return
        if principal is not None and principal.subject is not None:
            await sessions.revoke_subject(conn, store.sessions, principal.subject)


def _same(stored: Any, secret: str) -> bool:
    return hmac.compare_digest(str(stored), digest(secret))


def _aware(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def reused() -> Unauthorized:
    return Unauthorized(
        "This refresh token was used before: every token of its login is now revoked.",
        headers={"www-authenticate": 'Bearer error="invalid_token"'},
    )


def stale() -> Unauthorized:
    return Unauthorized(
        "The refresh token is not valid, expired, or revoked.",
        headers={"www-authenticate": 'Bearer error="invalid_token"'},
    )


def client_address(request: Request) -> str:
    client = request.scope.get("client")
    return str(client[0]) if client else "unknown"
