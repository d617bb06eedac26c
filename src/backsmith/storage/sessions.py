"""Refresh tokens of the built-in accounts: rotated on use, a reused one ends the login.

A refresh token reads `bsr_<id>_<secret>`; the table keeps its SHA-256 only. Each login
starts a family; a refresh marks its token used and issues the next of the family. A
token presented after it was used means someone holds a copy: every token of that
family is revoked (OAuth 2.0 Security BCP, refresh token rotation).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from backsmith.model.types import Field, FieldType, Resource
from backsmith.storage.api_keys import digest
from backsmith.storage.api_keys import split as split_token
from backsmith.storage.database import Connection
from backsmith.storage.queries import TableQueries

SESSIONS_TABLE = "backsmith_refresh_tokens"
PREFIX = "bsr"

SESSIONS = Resource(
    name=SESSIONS_TABLE,
    table=SESSIONS_TABLE,
    fields=(
        Field("id", "id", FieldType.STRING, nullable=False, primary_key=True, max_length=24),
        Field("family", "family", FieldType.STRING, nullable=False, max_length=24),
        Field("subject", "subject", FieldType.STRING, nullable=False, max_length=200),
        Field("secret_sha256", "secret_sha256", FieldType.STRING, nullable=False, max_length=64),
        Field("created_at", "created_at", FieldType.DATETIME, nullable=False),
        Field("expires_at", "expires_at", FieldType.DATETIME, nullable=False),
        Field("used_at", "used_at", FieldType.DATETIME),
        Field("revoked_at", "revoked_at", FieldType.DATETIME),
    ),
    primary_key=("id",),
)


async def issue(
    conn: Connection, queries: TableQueries, subject: str, family: str | None, ttl: int
) -> str:
    """A new refresh token for `subject`, in `family` (a new one for a new login)."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    await queries.insert(
        conn,
        {
            "id": token_id,
            "family": family or token_id,
            "subject": subject,
            "secret_sha256": digest(secret),
            "created_at": now,
            "expires_at": now + timedelta(seconds=ttl),
            "used_at": None,
            "revoked_at": None,
        },
    )
    return f"{PREFIX}_{token_id}_{secret}"


def split(token: Any) -> tuple[str, str] | None:
    return split_token(token, PREFIX)


async def revoke_family(conn: Connection, queries: TableQueries, family: str) -> None:
    await queries.update(conn, {"family": family}, {"revoked_at": datetime.now(UTC)})


async def revoke_subject(conn: Connection, queries: TableQueries, subject: str) -> None:
    await queries.update(conn, {"subject": subject}, {"revoked_at": datetime.now(UTC)})
