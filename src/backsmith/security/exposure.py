"""Closed by default: what a backend would expose to anyone, refused in production.

Tables served with no rule at all are the classic hole of schema-to-API tools. A write
operation that no requirement, role or owner guards must be marked public on purpose
(`x-backsmith: {public: true}`): in production it stops the start, in development each
one is a warning. Production also refuses to start without the keys its tokens need, with
a weak HMAC secret, or with operations whose security this version cannot verify.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backsmith.errors import InputError
from backsmith.model.types import ACCOUNT_KINDS, Model
from backsmith.settings import Settings

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MIN_SECRET_BYTES = 32  # RFC 7518 §3.2: an HS256 key at least as long as its hash
_KNOWN_SECRETS = {"secret", "changeme", "change-me", "your-secret", "jwt-secret", "test"}


class ExposureRefused(InputError):
    """A configuration production must not serve."""


def exposure_issues(model: Model, plans: Mapping[str, Any], settings: Settings) -> list[str]:
    """Everything a production start refuses, each a line."""
    issues = [
        f"{op.method} {op.path} ({op.operation_id}) writes with no security requirement, "
        "role or owner; mark it x-backsmith: {public: true} if that is meant"
        for op in model.operations
        if op.method in WRITES
        and not op.access.public
        and op.kind not in ACCOUNT_KINDS  # register and login are open by nature
        and plans[op.operation_id].guard.anonymous
    ]
    issues.extend(model.security_gaps)
    verifier = next((p.guard.verifier for p in plans.values() if p.guard.verifier), None)
    asks_tokens = any(not p.guard.anonymous for p in plans.values())
    if asks_tokens and verifier is not None and not verifier.configured:
        issues.append(
            "operations need bearer tokens but no key is set: set BACKSMITH_JWT_SECRET, "
            "BACKSMITH_JWT_PUBLIC_KEY or BACKSMITH_JWT_JWKS"
        )
    outside = settings.jwt_public_key or settings.jwt_jwks
    if outside and not (settings.jwt_audience or settings.jwt_issuer):
        issues.append(
            "tokens signed by an identity provider are not tied to this API: set "
            "BACKSMITH_JWT_AUDIENCE (or BACKSMITH_JWT_ISSUER), or its tokens for other "
            "applications pass here too"
        )
    if model.accounts is not None and not settings.jwt_secret:
        issues.append("the built-in accounts issue tokens: set BACKSMITH_JWT_SECRET")
    secret = settings.jwt_secret
    if secret and (len(secret.encode()) < MIN_SECRET_BYTES or secret.lower() in _KNOWN_SECRETS):
        issues.append(
            f"BACKSMITH_JWT_SECRET is too weak: use at least {MIN_SECRET_BYTES} random bytes"
        )
    return issues


def check_exposure(model: Model, plans: Mapping[str, Any], settings: Settings, warn: Any) -> None:
    """Refuse a production start with any issue; in development, warn about each."""
    issues = exposure_issues(model, plans, settings)
    if not issues:
        return
    if settings.production:
        listed = "\n".join(f"  - {issue}" for issue in issues)
        raise ExposureRefused(f"refusing to serve in production:\n{listed}")
    for issue in issues:
        warn("not for production: %s", issue)
