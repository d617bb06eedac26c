"""The tables that keep what writes leave behind: the outbox and its event log, the audit
trail, schedule ticks.

Rows of these tables are written in the transaction of the change they record, so a
change never exists without its event or its audit row, nor the other way round.
"""

from __future__ import annotations

from backsmith.model.types import Field, FieldType, Generated, Index, Resource

OUTBOX_TABLE = "backsmith_outbox"
EVENT_LOG_TABLE = "backsmith_event_log"
AUDIT_TABLE = "backsmith_audit"
TICKS_TABLE = "backsmith_schedule_ticks"


def _text(name: str, length: int | None = 200, nullable: bool = True, key: bool = False) -> Field:
    return Field(
        name, name, FieldType.STRING, nullable=nullable, max_length=length, primary_key=key
    )


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
def _event_fields(seq: Field, key: bool = False) -> tuple[Field, ...]:
    return (
        seq,
        _text("event_id", 36, nullable=False, key=key),
        _text("target", 255, nullable=False, key=key),
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
    )


# The events still to deliver, and only those: every write that publishes inserts here, so
# the table has its primary key and no other index (each would cost every such write).
# The relay reads it in `seq` order, and moves each row it is done with (delivered or dead)
# to the event log, so the table stays as short as the backlog.
OUTBOX = Resource(
    name=OUTBOX_TABLE,
    table=OUTBOX_TABLE,
    fields=_event_fields(_seq()),
    primary_key=("seq",),
)

# Where the relay moves the outbox's rows it is done with: kept for `backsmith events
# list|retry|replay` and swept once delivered rows are past retention. A row is known by
# its event and target: SQLite gives a new outbox row the next `seq` after the largest one
# still there, so a `seq` seen here may come again. Its indexes cost the relay only.
EVENT_LOG = Resource(
    name=EVENT_LOG_TABLE,
    table=EVENT_LOG_TABLE,
    fields=_event_fields(
        Field("seq", "seq", FieldType.INTEGER, nullable=False, big=True), key=True
    ),
    primary_key=("event_id", "target"),
    indexes=(Index(("status", "delivered_at")),),
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
