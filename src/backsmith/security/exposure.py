"""Closed by default: what a backend would expose to anyone, refused in production.

Tables served with no rule at all are the classic hole of schema-to-API tools. A write
operation that no requirement, role or owner guards must be marked public on purpose
(`x-backsmith: {public: true}`): in production it stops the start, in development each
one is a warning. Production also refuses to start without the keys its tokens need, with
a weak HMAC secret, or with operations whose security this version cannot verify.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from backsmith.contract.source import escape
from backsmith.errors import InputError, Issue
from backsmith.model.findings import PRODUCTION, WARNING
from backsmith.model.types import (
    ACCOUNT_KINDS,
    BEARER_JWT,
    PREFIXED_JWT,
    Kind,
    Model,
    Operation,
)
from backsmith.settings import Settings

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MIN_SECRET_BYTES = 32  # RFC 7518 §3.2: an HS256 key at least as long as its hash
_KNOWN_SECRETS = {"secret", "changeme", "change-me", "your-secret", "jwt-secret", "test"}


class ExposureRefused(InputError):
    """A configuration production must not serve."""


def startup_findings(model: Model, plans: Mapping[str, Any], settings: Settings) -> list[Issue]:
    """Everything a start warns about or, in production, refuses: the model's findings and
    what only the compiled plans and the settings tell. `check` prints the same list."""
    chosen = model.base_path.warnings if settings.base_path is not None else ()
    found = [f for f in model.findings if f not in chosen]  # BACKSMITH_BASE_PATH chose
    for op in model.operations:
        plan = plans[op.operation_id]
        if (
            op.method in WRITES
            and not op.access.public
            and op.kind not in ACCOUNT_KINDS  # register and login are open by nature
            and plan.guard.anonymous
        ):
            message = (
                f"{op.method} {op.path} ({op.operation_id}) writes with no security requirement, "
                "role or owner"
            )
            fix = (
                "give it a security requirement or x-backsmith roles, or mark it "
                "x-backsmith: {public: true} if anyone may write"
            )
            found.append(_issue(model, message, op.pointer, PRODUCTION, fix))
        if _declared_open(op) and not plan.guard.anonymous and plan.owners.any:
            message = (
                f"{op.method} {op.path} ({op.operation_id}) is open to anyone in the contract, "
                "but its rows have an owner, so only their owner may call it: anonymous "
                "callers answer 401"
            )
            fix = (
                "if anyone may read these rows, declare x-backsmith: {visibility: public} "
                "beside their owner (docs/ownership.md); else require credentials on the "
                "operation"
                if op.kind in (Kind.LIST, Kind.READ)
                else "require credentials on the operation: only an owner changes its rows, "
                "even where x-backsmith: {visibility: public} lets anyone read them"
            )
            found.append(_issue(model, message, f"{op.pointer}/security", WARNING, fix))
    found.extend(_settings_findings(model, plans, settings))
    return found


def _issue(model: Model, message: str, pointer: str, severity: str, fix: str) -> Issue:
    """A finding at `pointer`, on the line of the operation or scheme it is about."""
    file, line = model.locations.get(pointer.removesuffix("/security"), (model.path, None))
    return Issue(message, file, line, pointer, severity, fix)


def _declared_open(op: Operation) -> bool:
    """Whether the contract itself says anyone may call (security: [], an empty choice)."""
    requirements = op.access.requirements
    return op.access.public or (
        requirements is not None and (not requirements or any(not r for r in requirements))
    )


def _settings_findings(model: Model, plans: Mapping[str, Any], settings: Settings) -> list[Issue]:
    found = []
    tokens = next(
        (
            f"/components/securitySchemes/{escape(s.name)}"
            for s in model.schemes.values()
            if s.kind in (BEARER_JWT, PREFIXED_JWT)
        ),
        "",
    )
    verifier = next((p.guard.verifier for p in plans.values() if p.guard.verifier), None)
    asks_tokens = any(not p.guard.anonymous for p in plans.values())
    if asks_tokens and verifier is not None and not verifier.configured:
        message = "operations need bearer tokens but no key is set"
        fix = "set BACKSMITH_JWT_SECRET, BACKSMITH_JWT_PUBLIC_KEY or BACKSMITH_JWT_JWKS"
        found.append(_issue(model, message, tokens, PRODUCTION, fix))
    outside = settings.jwt_public_key or settings.jwt_jwks
    if outside and not (settings.jwt_audience or settings.jwt_issuer):
        message = (
            "tokens signed by an identity provider are not tied to this API, so its tokens "
            "for other applications pass here too"
        )
        fix = "set BACKSMITH_JWT_AUDIENCE (or BACKSMITH_JWT_ISSUER)"
        found.append(_issue(model, message, tokens, PRODUCTION, fix))
    if model.accounts is not None and not settings.jwt_secret:
        account = next((op.pointer for op in model.operations if op.kind in ACCOUNT_KINDS), "")
        message = "the built-in accounts issue tokens, and no key to sign them is set"
        found.append(_issue(model, message, account, PRODUCTION, "set BACKSMITH_JWT_SECRET"))
    secret = settings.jwt_secret
    if secret and (len(secret.encode()) < MIN_SECRET_BYTES or secret.lower() in _KNOWN_SECRETS):
        message = "BACKSMITH_JWT_SECRET is too weak"
        fix = f"use at least {MIN_SECRET_BYTES} random bytes (openssl rand -hex 32)"
        found.append(_issue(model, message, tokens, PRODUCTION, fix))
    return found


def finding_lines(findings: list[Issue], production: bool) -> list[str]:
    """The findings as printed and logged: in production, what it refuses is an error."""
    return [
        replace(f, severity="error").render()
        if production and f.severity == PRODUCTION
        else f.render()
        for f in findings
    ]


def report_findings(model: Model, plans: Mapping[str, Any], settings: Settings, warn: Any) -> None:
    """Log every finding; in production, refuse to start while any is not for production."""
    findings = startup_findings(model, plans, settings)
    refused = [f for f in findings if f.severity == PRODUCTION]
    if settings.production and refused:
        listed = "\n".join(f"  - {line}" for line in finding_lines(refused, True))
        raise ExposureRefused(f"refusing to serve in production:\n{listed}")
    if len(findings) > SAID_ONE_BY_ONE:
        warn("%s", summary(findings, settings.production))
        return
    for line in finding_lines(findings, settings.production):
        warn("%s", line)


# Up to this many findings are logged a line each, with their place in the contract; more
# (one per open operation of a large contract) are one block that `check` details.
SAID_ONE_BY_ONE = 3


# An operation's finding: "POST /books (createBook) writes with no security requirement...".
_OPERATION_FINDING = re.compile(r"^[A-Z]+ \S+ \((?P<id>[^)]+)\) (?P<what>.+)$")


def summary(findings: list[Issue], production: bool) -> str:
    """One block for the log: the findings alike said once, with the operations they are
    about; `backsmith check --production` lists each with its line and fix."""
    grouped: dict[str, list[str]] = {}
    for finding in findings:
        found = _OPERATION_FINDING.match(finding.message)
        what, operation = (found["what"], found["id"]) if found else (finding.message, "")
        grouped.setdefault(what, [])
        if operation:
            grouped[what].append(operation)
    refused = sum(f.severity == PRODUCTION for f in findings)
    head = (
        f"{len(findings)} finding(s), {refused} of them refusing a production start"
        if not production
        else f"{len(findings)} warning(s)"
    )
    lines = [f"{head} (backsmith check --production lists each, with its line and fix):"]
    for what, operations in grouped.items():
        if operations:
            shown = ", ".join(operations[:8]) + (", ..." if len(operations) > 8 else "")
            lines.append(f"  - {what} ({len(operations)} operations: {shown})")
        else:
            lines.append(f"  - {what}")
    return "\n".join(lines)
