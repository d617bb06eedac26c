"""Who may call an operation: the security schemes as verified, requirements, access rules,
and the table the built-in accounts live in. Part of the model (`model.types` re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass

from backsmith.model.kinds import ParamLocation, SchemeKind

# The scheme kinds under their earlier names.
BEARER_JWT = SchemeKind.BEARER_JWT
PREFIXED_JWT = SchemeKind.PREFIXED_JWT
API_KEY = SchemeKind.API_KEY
BASIC = SchemeKind.BASIC
UNSUPPORTED = SchemeKind.UNSUPPORTED


@dataclass(frozen=True, slots=True)
class Scheme:
    """One entry of `components.securitySchemes`, as backsmith verifies it."""

    name: str
    kind: SchemeKind
    type: str  # as declared: http, apiKey, oauth2, openIdConnect, mutualTLS
    location: ParamLocation = ParamLocation.HEADER  # apiKey: header, query or cookie
    parameter: str = "authorization"  # the header, query parameter or cookie carrying it
    prefix: str = "Bearer"  # the word before the token in Authorization
    scoped: bool = False  # oauth2 and openIdConnect: requirement lists are token scopes
    reason: str = ""  # why it is unsupported


Requirement = tuple[tuple[str, tuple[str, ...]], ...]  # (scheme, scopes or roles) all needed


@dataclass(frozen=True, slots=True)
class Access:
    """Who may call one operation."""

    requirements: tuple[Requirement, ...] | None = None  # None: the contract says nothing
    roles: tuple[str, ...] = ()  # x-backsmith roles: the caller needs one of them
    public: bool = False  # x-backsmith public: open on purpose

    @property
    def anonymous(self) -> bool:
        """Whether a caller with no credentials is admitted by the requirements."""
        requirements = self.requirements  # `security: []` (none) or an empty alternative
        return requirements is None or not requirements or any(not r for r in requirements)

    @property
    def secured(self) -> bool:
        """Whether any credential is asked for (requirements or roles)."""
        return bool(self.roles) or not self.anonymous


@dataclass(frozen=True, slots=True)
class Accounts:
    """The table the built-in accounts live in, and how a caller names theirs."""

    table: str
    identifiers: tuple[str, ...]  # unique columns a login may name the account by (email)
    password_column: str  # holds the argon2id hash, never a password
    roles_column: str | None = None  # a column listing the account's roles, if there is one
