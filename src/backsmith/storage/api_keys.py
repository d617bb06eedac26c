"""API keys kept by backsmith: stored hashed, shown once, revoked by id.

A key reads `bsk_<id>_<secret>`. The table keeps the id, the SHA-256 of the secret (keys
are 32 random bytes, so a fast hash is enough: there is nothing to guess), the subject
and roles the key acts as, and when it was created and revoked. The table exists when
the contract declares an `apiKey` scheme backsmith keeps, so migrations create it like
any other (see `storage.system_tables`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from backsmith.errors import BacksmithError
from backsmith.model.types import Field, FieldType, Resource

KEYS_TABLE = "backsmith_api_keys"
PREFIX = "bsk"

KEYS = Resource(
    name=KEYS_TABLE,
    table=KEYS_TABLE,
    fields=(
        Field("id", "id", FieldType.STRING, nullable=False, primary_key=True, max_length=24),
        Field("secret_sha256", "secret_sha256", FieldType.STRING, nullable=False, max_length=64),
        Field("subject", "subject", FieldType.STRING, nullable=False, max_length=200),
        Field("roles", "roles", FieldType.STRING, nullable=False, max_length=1000),
        Field("name", "name", FieldType.STRING, max_length=200),
        Field("created_at", "created_at", FieldType.DATETIME, nullable=False),
        Field("revoked_at", "revoked_at", FieldType.DATETIME),
    ),
    primary_key=("id",),
)


class KeysUnavailable(BacksmithError):
    """The database has no table of API keys (the contract declares no apiKey scheme)."""


@dataclass(frozen=True, slots=True)
class StoredKey:
    id: str
    subject: str
    roles: tuple[str, ...]
    name: str | None
    created_at: datetime
    revoked_at: datetime | None


def split(key: Any, prefix: str = PREFIX) -> tuple[str, str] | None:
    """A presented `<prefix>_<id>_<secret>`'s id and secret; None when it is not one."""
    if not isinstance(key, str) or len(key) > 200:
        return None
    found, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    return (key_id, secret) if found == prefix and key_id and secret else None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(row: Any, secret: str) -> bool:
    """The secret against a stored row, in constant time; revoked keys never match."""
    if row is None or row["revoked_at"] is not None:
        return False
    return hmac.compare_digest(str(row["secret_sha256"]), digest(secret))


def _table(conn: sa.Connection) -> sa.Table:
    if not sa.inspect(conn).has_table(KEYS_TABLE):
        raise KeysUnavailable(
            f"the database has no {KEYS_TABLE} table: the contract declares no apiKey scheme, "
            "or its tables are not made yet (serve it once, or run backsmith migrate up)"
        )
    return sa.Table(KEYS_TABLE, sa.MetaData(), autoload_with=conn)


def create_key(conn: sa.Connection, subject: str, roles: tuple[str, ...], name: str | None) -> str:
    """A new key, returned whole: only its hash is kept."""
    table = _table(conn)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    conn.execute(
        table.insert().values(
            id=key_id,
            secret_sha256=digest(secret),
            subject=subject,
            roles=",".join(roles),
            name=name,
            created_at=datetime.now(UTC),
            revoked_at=None,
        )
    )
    return f"{PREFIX}_{key_id}_{secret}"


def list_keys(conn: sa.Connection) -> list[StoredKey]:
    table = _table(conn)
    rows = conn.execute(sa.select(table).order_by(table.c.created_at, table.c.id)).mappings()
    return [
        StoredKey(
            row["id"],
            row["subject"],
            tuple(r for r in str(row["roles"]).split(",") if r),
            row["name"],
            row["created_at"],
            row["revoked_at"],
        )
        for row in rows
    ]


def revoke_key(conn: sa.Connection, key_id: str) -> bool:
    """Whether a key of that id was there and is now revoked."""
    table = _table(conn)
    done = conn.execute(
        table.update()
        .where(table.c.id == key_id, table.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return bool(done.rowcount)
