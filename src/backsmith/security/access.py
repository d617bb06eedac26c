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
from backsmith.model.types import Access, Requirement
from backsmith.security.credentials import Credential, Reader, invalid
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
        self.challenges = ", ".join(
            dict.fromkeys(credentials[name].challenge for r in self.requirements for name, _ in r)
        )

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
            headers={"www-authenticate": self.challenges or "Bearer"},
        )

    def _with_roles(self, principal: Principal) -> Principal:
        if self.roles and not (principal.roles & (self.roles | self.admin_roles)):
            needed = ", ".join(sorted(self.roles))
            raise Forbidden(f"Not allowed: this operation needs the role {needed}.")
        return principal


def missing() -> Unauthorized:
    """The answer to an anonymous call of an operation that acts for the caller."""
    return Unauthorized(
        "This operation acts for the caller; send 'Authorization: Bearer <token>'.",
        headers={"www-authenticate": "Bearer"},
    )


def unknown_caller() -> Unauthorized:
    """A valid token whose subject is no row of the callers' table."""
    return invalid("Bearer", "the token's subject names no known caller.")
