"""The tables that keep what writes leave behind: the outbox, the audit trail, schedule ticks.

Rows of these tables are written in the transaction of the change they record, so a
change never exists without its event or its audit row, nor the other way round.
"""

from __future__ import annotations

from backsmith.model.types import Field, FieldType, Generated, Index, Resource

OUTBOX_TABLE = "backsmith_outbox"
AUDIT_TABLE = "backsmith_audit"
TICKS_TABLE = "backsmith_schedule_ticks"


def _text(name: str, length: int | None = 200, nullable: bool = True) -> Field:
    return Field(name, name, FieldType.STRING, nullable=nullable, max_length=length)


def _time(name: str, nullable: bool = True) -> Field:
    return Field(name, name, FieldType.DATETIME, nullable=nullable)


def _seq() -> Field:
    return Field(
        "seq",
        "seq",
        FieldType.INTEGER,
        nullable=False,
        primary_key=True,
        generated=Generated.AUTOINCREMENT,
        big=True,
    )


# One row per event and delivery target: the event's id is shared by its rows, and each
# row carries its own delivery state, so one target's failures never hold up another.
OUTBOX = Resource(
    name=OUTBOX_TABLE,
    table=OUTBOX_TABLE,
    fields=(
        _seq(),
        _text("event_id", 36, nullable=False),
        _text("target", 255, nullable=False),  # indexed with three more: within MariaDB's key size
        _text("type", nullable=False),
        _text("resource"),
        _text("resource_key"),
        _text("subject"),
        _text("operation"),
        _text("data", None, nullable=False),  # the event's data, as JSON
        _time("occurred_at", nullable=False),
        _text("status", 16, nullable=False),  # pending, delivered or dead
        Field("attempts", "attempts", FieldType.INTEGER, nullable=False),
        _time("next_attempt_at", nullable=False),
        _time("locked_until"),  # a relay's lease while it delivers the row
        _text("last_error", None),
        _time("delivered_at"),
    ),
    primary_key=("seq",),
    # Each index costs every write with an event: the relay's claims and its order per row
    # need these two; `events retry|replay ID` reads the (retention-bounded) table through.
    indexes=(
        Index(("status", "next_attempt_at")),
        Index(("target", "resource", "resource_key", "status")),
    ),
)

AUDIT = Resource(
    name=AUDIT_TABLE,
    table=AUDIT_TABLE,
    fields=(
        _seq(),
        _text("resource", nullable=False),
        _text("resource_key"),
        _text("action", 32, nullable=False),  # created, updated, deleted or a state moved to
        _text("subject"),
        _text("operation"),
        _time("at", nullable=False),
        _text("before", None),  # the row's values as JSON, secrets left out
        _text("after", None),
    ),
    primary_key=("seq",),
    indexes=(Index(("resource", "resource_key", "seq")),),
)

# A job's tick is run by the instance whose insert of (job, tick) wins the primary key.
TICKS = Resource(
    name=TICKS_TABLE,
    table=TICKS_TABLE,
    fields=(
        Field("job", "job", FieldType.STRING, nullable=False, primary_key=True, max_length=200),
        Field("tick", "tick", FieldType.DATETIME, nullable=False, primary_key=True),
        _text("runner"),
        _time("started_at", nullable=False),
    ),
    primary_key=("job", "tick"),
)
