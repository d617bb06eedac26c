"""SQLite's value conversions for the column types every table has, cheaper than SQLAlchemy's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa

Processor = Callable[[Any], Any]


def sqlite_uuid_in(value: Any) -> str | None:
    # Stored as 32 hex digits, as SQLAlchemy stores them; rows hand them back as text.
    if value is None:
        return None
    if isinstance(value, UUID):
        return value.hex
    return str(value).replace("-", "").lower()


def _sqlite_uuid_out(value: str | None) -> str | None:
    # The same canonical text asyncpg's codec gives on PostgreSQL.
    if value is None or len(value) != 32:
        return value
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def _sqlite_timestamp_out(value: str | None) -> datetime | None:
    if value is None:
        return None
    stamp = datetime.fromisoformat(value)
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _sqlite_json_out(value: Any) -> Any:
    # A JSON column has NUMERIC affinity: a stored number comes back as a number.
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def sqlite_decoder(kind: Any) -> Processor | None:
    """Decoders for the column types every table has, cheaper than SQLAlchemy's regexes."""
    if isinstance(kind, sa.Uuid):
        return _sqlite_uuid_out
    if isinstance(kind, sa.JSON):
        return _sqlite_json_out
    base = kind.impl_instance if isinstance(kind, sa.TypeDecorator) else kind
    if isinstance(base, sa.DateTime) and base.timezone:
        return _sqlite_timestamp_out
    return None
