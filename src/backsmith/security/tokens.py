"""Bearer JWTs verified against configured keys: who the caller is, their roles and scopes.

Keys come from the settings: an HMAC secret (`BACKSMITH_JWT_SECRET`), a PEM public key
file, or a JWKS (a file, re-read when it changes, or an https URL fetched by PyJWT's
client), chosen by the token's `kid`. The algorithm allow-list is explicit, so `alg: none`
is refused and an HMAC token is never checked against a public key (the classic
algorithm-confusion attack). A verified token is remembered for a minute at most, so a
busy caller costs one signature check a minute rather than one per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from backsmith.errors import InputError
from backsmith.security.store import MemoryStore, Store
from backsmith.settings import Settings, names

MAX_TOKEN_BYTES = 8192
_HMAC = ("HS256", "HS384", "HS512")
_ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")
_REMEMBERED_SECONDS = 60.0
_REMEMBERED_TOKENS = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified caller."""

    subject: str | None
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    scheme: str = ""


class TokenRejected(Exception):
    """A token that fails a check; the message says which, for the 401's detail."""


class KeyConfigError(InputError):
    """Key settings that cannot be used."""


class _JwksFile:
    """A JWKS file, re-read when it changes, so keys rotate without a restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str, Any] = {}
        self._checked = time.monotonic()
        self.generation = 0
        self.refresh()

    def refresh(self) -> None:
        try:
            stat = self.path.stat()
        except OSError as error:
            raise KeyConfigError(f"cannot read the JWKS file {self.path}: {error}") from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        try:
            keys = jwt.PyJWKSet.from_json(self.path.read_text(encoding="utf-8")).keys
        except (jwt.PyJWTError, ValueError, OSError) as error:
            raise KeyConfigError(f"the JWKS file {self.path} is not usable: {error}") from None
        self._keys = {str(key.key_id or ""): key for key in keys}
        self._stamp = stamp
        self.generation += 1

    def key_of(self, kid: str | None) -> Any | None:
        """The key of `kid` (the only key, for a token without one); None if unknown."""
        if kid is None:
            return next(iter(self._keys.values())).key if len(self._keys) == 1 else None
        if kid not in self._keys:
            try:
                self.refresh()
            except KeyConfigError:
                return None  # a file mid-rewrite: the next request tries again
        found = self._keys.get(kid)
        return found.key if found is not None else None

    def check(self) -> None:
        """Notice a rewritten file (keys rotated out), at most once a second."""
        now = time.monotonic()
        if now - self._checked >= 1.0:
            self._checked = now
            # On a failure keep the keys read last: the file may be mid-rewrite.
            with contextlib.suppress(KeyConfigError):
                self.refresh()


class _JwksUrl:
    """A JWKS fetched over https by PyJWT's client, cached, fetched again for a new kid."""

    def __init__(self, url: str) -> None:
        self.client = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)
        self.generation = 0

    def check(self) -> None:
        """The client fetches again when its cache lapses or a kid is new."""

    def key_of(self, kid: str | None) -> Any | None:
        try:
            if kid is None:
                keys = self.client.get_signing_keys()
                return keys[0].key if len(keys) == 1 else None
            return self.client.get_signing_key(kid).key
        except jwt.PyJWKClientError:
            return None


def _jwks(location: str) -> _JwksFile | _JwksUrl:
    if location.startswith(("https://", "http://")):
        loopback = location.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
        if location.startswith("http://") and not loopback:
            raise KeyConfigError("BACKSMITH_JWT_JWKS must be an https URL (or a file)")
        return _JwksUrl(location)
    return _JwksFile(Path(location))


class TokenVerifier:
    """Checks bearer JWTs; one per app, shared by every operation."""

    def __init__(
        self, settings: Settings, remembered: Store[tuple[Principal, int]] | None = None
    ) -> None:
        self.secret = settings.jwt_secret.encode() if settings.jwt_secret else b""
        self.public_key = _public_key(settings.jwt_public_key) if settings.jwt_public_key else None
        self.jwks = _jwks(settings.jwt_jwks) if settings.jwt_jwks else None
        declared = names(settings.jwt_algorithms)
        if declared:
            unknown = declared - set(_HMAC) - set(_ASYMMETRIC)
            if unknown:
                listed = ", ".join(sorted(unknown))
                raise KeyConfigError(f"BACKSMITH_JWT_ALGORITHMS names unknown algorithms: {listed}")
            self.algorithms = declared
        else:
            allowed: set[str] = set()
            if self.secret:
                allowed.add("HS256")
            if self.public_key is not None or self.jwks is not None:
                allowed |= {"RS256", "ES256", "EdDSA"}
            self.algorithms = frozenset(allowed)
        self.issuer = settings.jwt_issuer or None
        self.audience = settings.jwt_audience or None
        self.leeway = settings.jwt_leeway
        self.roles_claim = settings.roles_claim
        # Verified tokens with the JWKS generation they were checked against.
        self.remembered: Store[tuple[Principal, int]] = (
            remembered if remembered is not None else MemoryStore(_REMEMBERED_TOKENS)
        )

    @property
    def configured(self) -> bool:
        """Whether any key is set, so that some token could pass."""
        return bool(self.secret) or self.public_key is not None or self.jwks is not None

    async def verify(self, token: str, scheme: str) -> Principal:
        """The caller a token names; TokenRejected says why it does not pass."""
        now = time.time()
        if self.jwks is not None:
            self.jwks.check()
        remembered = await self.remembered.get(token)
        generation = self.jwks.generation if self.jwks is not None else 0
        if remembered is not None:
            principal, seen = remembered
            if seen == generation:
                return principal
            await self.remembered.delete(token)  # its keys were read again since
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenRejected(f"the token is longer than {MAX_TOKEN_BYTES} bytes")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise TokenRejected(f"the token is not a JWT: {error}") from None
        algorithm = str(header.get("alg", ""))
        if algorithm not in self.algorithms:
            raise TokenRejected(f"tokens signed with '{algorithm}' are not accepted")
        key = await self._key(algorithm, header.get("kid"))
        claims = self._decode(token, key, algorithm)
        principal = self._principal(claims, scheme)
        if self.jwks is not None:
            generation = self.jwks.generation
        remember_for = min(float(claims["exp"]) + self.leeway - now, _REMEMBERED_SECONDS)
        await self.remembered.set(token, (principal, generation), remember_for)
        return principal

    async def _key(self, algorithm: str, kid: Any) -> Any:
        if algorithm in _HMAC:
            if not self.secret:
                raise TokenRejected("no secret is configured for HMAC tokens")
            return self.secret
        kid = str(kid) if kid is not None else None
        if self.jwks is not None:
            jwks = self.jwks
            if isinstance(jwks, _JwksUrl):  # a fetch blocks; not on the event loop's thread
                key = await asyncio.to_thread(jwks.key_of, kid)
            else:
                key = jwks.key_of(kid)
            if key is not None:
                return key
            if self.public_key is None:
                raise TokenRejected(f"no key '{kid}' is known" if kid else "the token has no kid")
        if self.public_key is None:
            raise TokenRejected("no public key is configured for this token's algorithm")
        return self.public_key

    def _decode(self, token: str, key: Any, algorithm: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                leeway=self.leeway,
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp"], "verify_aud": self.audience is not None},
            )
        except jwt.PyJWTError as error:
            raise TokenRejected(f"the token is not valid: {error}") from None
        return claims

    def _principal(self, claims: dict[str, Any], scheme: str) -> Principal:
        subject = claims.get("sub")
        scopes = claims.get("scope", claims.get("scp", ()))
        return Principal(
            subject=str(subject) if subject is not None else None,
            roles=_listed(claims.get(self.roles_claim, ())),
            scopes=_listed(scopes),
            scheme=scheme,
        )


def _listed(value: Any) -> frozenset[str]:
    """A claim that lists names: an array, or one space-separated string (OAuth scopes)."""
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list | tuple):
        return frozenset(str(item) for item in value)
    return frozenset()


def _public_key(path: str) -> Any:
    """A PEM public key of any type PyJWT verifies with (RSA, EC, Ed25519)."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        return load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as error:
        raise KeyConfigError(f"BACKSMITH_JWT_PUBLIC_KEY: cannot use {path}: {error}") from None
