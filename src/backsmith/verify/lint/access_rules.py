"""Lint rules on who may call what: unguarded writes, unlimited public operations, owned
rows reachable by id with no owner rule (BOLA), CORS open to every origin."""

from __future__ import annotations

import re
from collections.abc import Iterator

from backsmith.model.types import ACCOUNT_KINDS, Kind, Model, Resource
from backsmith.settings import names
from backsmith.verify.lint.rules import ERROR, WARNING, Hit, Review, operation_name, rule

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Item operations: one row, addressed by the key in its path.
_BY_ID = frozenset({Kind.READ, Kind.REPLACE, Kind.UPDATE, Kind.DELETE})
# Columns that usually name the caller a row belongs to.
_OWNERISH = re.compile(
    r"^(?:owner|user|account|customer|member|author|creator|created_by|profile)(?:_id)?$"
)


# The last segment of a path callers reach before they have credentials: signing in or up,
# asking for a token, resetting a password (`/login`, `/auth/sign-in`, `/v1/login_user`).
# Only collection-level paths: `/users/{id}/tokens` makes a token for a row, and is guarded.
_BEFORE_CREDENTIALS = re.compile(
    r"^(?:log[-_]?in|sign[-_]?in|sign[-_]?up|register|registrations?|tokens?|sessions?"
    r"|refresh(?:[-_]?tokens?)?|(?:forgot|reset)[-_]?password|password[-_]?resets?|auth)"
    r"(?:[-_](?:user|account|customer|member)s?)?$",
    re.IGNORECASE,
)


def _before_credentials(path: str) -> bool:
    if "{" in path:
        return False
    segments = [part for part in path.split("/") if part]
    return bool(segments) and bool(_BEFORE_CREDENTIALS.match(segments[-1]))


@rule(
    "write-without-security",
    ERROR,
    "a write operation with no security requirement, role or owner",
    "add a security requirement or roles; or x-backsmith: {public: true} if anyone may write",
)
def write_without_security(review: Review) -> Iterator[Hit]:
    for op in review.served():
        if op.method not in WRITES or op.kind in ACCOUNT_KINDS or op.access.public:
            continue
        if op.method == "POST" and _before_credentials(op.path):
            continue  # sign-in, sign-up, token: open by what they are
        resource = review.model.resources.get(op.resource or "")
        owned = resource is not None and resource.table in review.model.owners
        if not op.access.secured and not owned:  # an owned row's write needs its owner
            yield Hit(
                op.pointer,
                f"{operation_name(op)} changes data and asks for no credentials: "
                "anyone on the network may call it",
            )


@rule(
    "public-without-rate-limit",
    WARNING,
    "an operation anyone may call, with no rate limit",
    "x-backsmith: {rate-limit: 100/minute} on the operation, or once at the root",
)
def public_without_rate_limit(review: Review) -> Iterator[Hit]:
    for op in review.served():
        if op.access.anonymous and not op.access.roles and op.policies.rate_limit is None:
            yield Hit(
                op.pointer,
                f"{operation_name(op)} is open to anonymous callers and not rate limited: "
                "one client can take the whole service",
            )


@rule(
    "owned-without-owner-rule",
    WARNING,
    "rows with a column naming their user, read or changed by id with no owner rule (BOLA)",
    "x-backsmith: {owner: <column>} on the schema, so callers reach only their own rows",
)
def owned_without_owner_rule(review: Review) -> Iterator[Hit]:
    model = review.model
    for op in review.served():
        if op.kind not in _BY_ID or not op.access.secured or op.access.roles:
            continue
        resource = model.resources.get(op.resource or "")
        if resource is None or resource.table in model.owners:
            continue
        column = _owner_column(model, resource)
        if column is not None:
            yield Hit(
                op.pointer,
                f"{operation_name(op)} reaches {resource.table} rows by id, and "
                f"{resource.table}.{column} names a user, but no owner rule says whose they "
                "are: any signed-in caller can reach any row (broken object level "
                "authorization)",
            )


def _owner_column(model: Model, resource: Resource) -> str | None:
    """A column of `resource` that names a user: a reference to the accounts table, or a
    name such as owner_id, user_id or created_by."""
    accounts = model.accounts.table if model.accounts is not None else None
    for relation in resource.relations:
        if accounts is not None and relation.target == accounts and len(relation.columns) == 1:
            return relation.columns[0]
    keys = set(resource.primary_key)
    for field in resource.fields:
        if field.column not in keys and _OWNERISH.match(field.column):
            return field.column
    return None


@rule(
    "cors-wide-open",
    WARNING,
    "CORS allows every origin (`*`)",
    "list the origins that may call from a browser in x-backsmith: {cors-origins: [...]}",
)
def cors_wide_open(review: Review) -> Iterator[Hit]:
    settings = review.settings
    if "*" not in names(settings.cors_origins):
        return
    where = "/x-backsmith/cors-origins"
    pointer = where if "cors-origins" in (review.document.get("x-backsmith") or {}) else ""
    credentials = " with credentials (refused at start-up)" if settings.cors_credentials else ""
    yield Hit(
        pointer,
        f"every origin may call this API from a browser{credentials}: any web page a user "
        "visits can send requests with their session",
    )
