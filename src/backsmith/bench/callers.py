"""Who the requests act as: an HS256 bearer JWT minted with the run's secret, for an admin.

An admin role sees and changes every owner's rows, so one token serves every secured
operation. The subject is "1", unless the operation names its caller by a row of a table
(the customer a wishlist belongs to, the owner of a row): then it is such a row's key, so
that what the caller writes points at a row that exists.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from backsmith.bench.pool import RowPool, path_text
from backsmith.model.types import (
    BEARER_JWT,
    PREFIXED_JWT,
    Model,
    Operation,
    ParamLocation,
    Resource,
    Scheme,
)

TOKEN_SECONDS = 24 * 3600  # longer than any run, shorter than a forgotten token should live
DEFAULT_SUBJECT = "1"


@dataclass(frozen=True, slots=True)
class Minting:
    """How tokens are made: the secret and the claims the service reads."""

    secret: str | None  # None: no token can be minted (a --url run without --jwt-secret)
    roles_claim: str = "roles"
    admin_roles: tuple[str, ...] = ("admin",)
    issuer: str = ""
    audience: str = ""


@dataclass(frozen=True, slots=True)
class Caller:
    """The header (or cookie) an operation's requests carry, or why none can be made."""

    header: tuple[str, str] | None = None
    reason: str = ""  # set: the operation is left out


def caller_for(model: Model, op: Operation, minting: Minting, pool: RowPool) -> Caller:
    """The credentials `op` needs; none for an open operation."""
    if not op.access.secured:
        return Caller()
    roles = sorted({*minting.admin_roles, *op.access.roles})
    return token_caller(model, op, minting, subject_for(model, op, pool), roles)


def token_caller(
    model: Model, op: Operation, minting: Minting, subject: str, roles: list[str]
) -> Caller:
    """`op`'s credentials for `subject` holding `roles` (an open operation's too: a caller
    who sends a token is that caller)."""
    scheme, scopes = _jwt_scheme(model, op)
    if scheme is None:
        kinds = ", ".join(sorted({model.schemes[s].kind for s in _schemes_of(op)})) or "none"
        return Caller(reason=f"secured by schemes no token can be minted for ({kinds})")
    if not minting.secret:
        return Caller(reason=f"secured ({scheme.name}): give --jwt-secret to mint its tokens")
    token = mint(minting, subject, roles, scopes)
    value = f"{scheme.prefix} {token}" if scheme.prefix else token
    if scheme.location == ParamLocation.HEADER:
        return Caller(header=(scheme.parameter, value))
    if scheme.location == ParamLocation.COOKIE:
        return Caller(header=("cookie", f"{scheme.parameter}={token}"))
    return Caller(reason=f"its token goes in the {scheme.location} (only headers are sent)")


def mint(minting: Minting, subject: str, roles: list[str], scopes: tuple[str, ...] = ()) -> str:
    """An HS256 JWT the service's verifier accepts (it requires `exp`)."""
    import jwt

    now = int(time.time())
    claims: dict[str, object] = {
        "sub": subject,
        minting.roles_claim: roles,
        "iat": now,
        "exp": now + TOKEN_SECONDS,
    }
    if scopes:
        claims["scope"] = " ".join(scopes)
    if minting.issuer:
        claims["iss"] = minting.issuer
    if minting.audience:
        claims["aud"] = minting.audience
    assert minting.secret is not None
    return jwt.encode(claims, minting.secret, algorithm="HS256")


def _schemes_of(op: Operation) -> list[str]:
    return [name for alternative in op.access.requirements or () for name, _ in alternative]


def _jwt_scheme(model: Model, op: Operation) -> tuple[Scheme | None, tuple[str, ...]]:
    """The first way in that one bearer JWT satisfies, and the scopes it must carry."""
    jwt_kinds = (BEARER_JWT, PREFIXED_JWT)
    alternatives = [alt for alt in op.access.requirements or () if alt]
    for alternative in alternatives:
        schemes = [model.schemes.get(name) for name, _ in alternative]
        # Several schemes read from one header (two oauth2 flows) take the same token.
        places = {(s.kind, s.location, s.parameter, s.prefix) for s in schemes if s is not None}
        found = schemes[0]
        if found is not None and found.kind in jwt_kinds and len(places) == 1 and all(schemes):
            scopes = dict.fromkeys(scope for _, needed in alternative for scope in needed)
            return found, tuple(scopes)
    if not alternatives:  # roles only (x-backsmith roles): any bearer scheme carries them
        for scheme in model.schemes.values():
            if scheme.kind in jwt_kinds:
                return scheme, ()
    return None, ()


def subject_for(model: Model, op: Operation, pool: RowPool) -> str:
    """A subject whose row exists where the operation records its caller, else "1"."""
    column, table = None, None
    if op.link is not None and op.link_caller:
        column, table = op.link_caller, op.link.join or op.link.target
    elif op.resource in model.resources:
        table = model.resources[op.resource].table
        owner = model.owners.get(table)
        column = owner.column if owner is not None and not owner.hops else None
    resource = model.resource_for_table(table) if table else None
    if column is None or resource is None:
        return DEFAULT_SUBJECT
    return _referenced_key(resource, column, pool) or DEFAULT_SUBJECT


def _referenced_key(resource: Resource, column: str, pool: RowPool) -> str | None:
    relation = next((r for r in resource.relations if r.columns == (column,)), None)
    if relation is None:
        return None
    rows = pool.having(relation.target, [relation.target_columns[0]])
    return path_text(rows[0][relation.target_columns[0]]) if rows else None
