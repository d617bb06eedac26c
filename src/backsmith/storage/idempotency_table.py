"""The table of idempotency records: one per caller and key, with the answer it got.

A record is claimed (`running`, with a lease) before its request runs, and completed
(`done`, with the answer's status, head and body) by the request's own transaction, so a
write never commits without its record's answer, nor the answer without the write.
"""

from __future__ import annotations

from backsmith.model.types import Field, FieldType, Index, Resource

IDEMPOTENCY_TABLE = "backsmith_idempotency"


def _text(name: str, length: int | None, nullable: bool = False, key: bool = False) -> Field:
    return Field(
        name, name, FieldType.STRING, nullable=nullable, max_length=length, primary_key=key
    )


IDEMPOTENCY = Resource(
    name=IDEMPOTENCY_TABLE,
    table=IDEMPOTENCY_TABLE,
    fields=(
        _text("caller", 200, key=True),  # subject:<sub>, or address:<network>[:<credential>]
        _text("key", 255, key=True),  # the Idempotency-Key as the client sent it
        _text("fingerprint", 64),  # sha256 of method, path, query and body
        _text("state", 16),  # running or done
        _text("lease", 32),  # the running attempt's own token: only it may complete
        Field("locked_until", "locked_until", FieldType.DATETIME, nullable=False),
        Field("created_at", "created_at", FieldType.DATETIME, nullable=False),
        Field("status", "status", FieldType.INTEGER, nullable=True),
        _text("head", None, nullable=True),  # media type and headers, as JSON
        Field("body", "body", FieldType.BINARY, nullable=True),
    ),
    primary_key=("caller", "key"),
    indexes=(Index(("created_at",)),),  # records past their retention are swept by age
)
