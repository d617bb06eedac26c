"""Who may call an operation: its security requirements and roles, checked before parsing.

Each operation compiles a `Guard` once. An operation the contract leaves open costs
nothing: its guard only reads a token when one is sent, for values that depend on the
caller (`wishlisted`). Missing or bad credentials answer 401 with `WWW-Authenticate`
(RFC 6750 §3); valid credentials without the role or scope asked for answer 403.
"""

from __future__ import annotations

from collections.abc import Mapping

from backsmith.errors import Forbidden, Unauthorized
from backsmith.http.request import Request
from backsmith.model.types import Access, Requirement, Scheme
from backsmith.security.credentials import Credential, Reader, challenge_of, invalid
from backsmith.security.tokens import Principal, TokenVerifier


class Guard:
    """One operation's admission check."""

    def __init__(
        self,
        access: Access,
        credentials: Mapping[str, Reader],
        admin_roles: frozenset[str],
        owned: bool,
        lenient: bool = False,
        schemes: Mapping[str, Scheme] | None = None,
    ) -> None:
        self.roles = frozenset(access.roles)
        self.admin_roles = admin_roles
        self.credentials = credentials
        # A bad credential leaves the caller anonymous instead of refusing (logout: a
        # client whose access token expired still ends its login with the refresh token).
        self.lenient = lenient
        tokens = (c for c in credentials.values() if isinstance(c, Credential))
        first = next(tokens, None)
        self.verifier: TokenVerifier | None = first.verifier if first is not None else None
        requirements = access.requirements
        if requirements is None or not any(requirements):
            # Nothing asked for: any scheme the contract declares may name the caller.
            optional = [((name, ()),) for name in credentials]
            self.anonymous = not self.roles and not owned
            self.requirements: tuple[Requirement, ...] = tuple(optional)
        else:
            self.anonymous = any(not r for r in requirements) and not self.roles and not owned
            # Alternatives naming a scheme this version cannot verify are never satisfied
            # (serve refuses an operation left with none; see model.security).
            self.requirements = tuple(
                r for r in requirements if r and all(name in credentials for name, _ in r)
            )
        self.challenges = _challenges(self.requirements, requirements, credentials, schemes)

    async def admit(self, request: Request) -> Principal | None:
        """The caller, None for an admitted anonymous one; or 401 / 403.

        Every alternative is tried before refusing: a credential one scheme rejects may be
        another's. Schemes required together must name the same caller.
        """
        insufficient = ""
        rejected: Unauthorized | None = None
        for requirement in self.requirements:
            principal: Principal | None = None
            for name, needed in requirement:
                try:
                    found = await self.credentials[name].read(request)
                except Unauthorized as error:
                    rejected = rejected or error
                    found = None
                if found is None or (principal is not None and found.subject != principal.subject):
                    principal = None
                    break
                held = found.scopes if self.credentials[name].scheme.scoped else found.roles
                missing = [n for n in needed if n not in held]
                if missing:
                    principal = None
                    insufficient = f"the credentials lack {', '.join(missing)}"
                    break
                principal = principal or found
            if principal is not None:
                return self._with_roles(principal)
        if rejected is not None and not (self.lenient and self.anonymous):
            raise rejected  # a bad credential is refused, also where anyone may call
        if self.anonymous:  # credentials that do not pass an alternative: anonymous still
            return None
        if insufficient:
            raise Forbidden(f"Not allowed: {insufficient}.")
        raise Unauthorized(
            "This operation needs credentials; send them as the contract's securitySchemes say.",
            headers={"www-authenticate": self.challenges},
        )

    def challenge_for(self, principal: Principal | None) -> str:
        """The challenge of the scheme that named `principal` (a token's, by default)."""
        reader = self.credentials.get(principal.scheme) if principal is not None else None
        return reader.challenge if reader is not None and reader.challenge else "Bearer"

    def _with_roles(self, principal: Principal) -> Principal:
        if self.roles and not (principal.roles & (self.roles | self.admin_roles)):
            needed = ", ".join(sorted(self.roles))
            raise Forbidden(f"Not allowed: this operation needs the role {needed}.")
        return principal


def _challenges(
    verifiable: tuple[Requirement, ...],
    declared: tuple[Requirement, ...] | None,
    credentials: Mapping[str, Reader],
    schemes: Mapping[str, Scheme] | None,
) -> str:
    """`WWW-Authenticate` for a refusal: a challenge per scheme the operation accepts.

    The schemes this server verifies, in the contract's order; where it verifies none of
    them, the ones the contract names all the same (`Basic`, `Digest`), so a client
    learns what is asked. `Bearer` only when nothing names a challenge.
    """
    found = [credentials[name].challenge for r in verifiable for name, _ in r]
    if not any(found) and schemes:
        named = (schemes[name] for r in declared or () for name, _ in r if name in schemes)
        found = [challenge_of(scheme) for scheme in named]
    return ", ".join(dict.fromkeys(c for c in found if c)) or "Bearer"


def missing(challenges: str = "Bearer") -> Unauthorized:
    """The answer to an anonymous call of an operation that acts for the caller."""
    return Unauthorized(
        "This operation acts for the caller; send the credentials the contract's "
        "securitySchemes name.",
        headers={"www-authenticate": challenges},
    )


def unknown_caller(challenge: str = "Bearer") -> Unauthorized:
    """Valid credentials whose subject is no row of the callers' table."""
    return invalid(challenge, "the credentials' subject names no known caller.")
