"""What a write leaves behind in its own transaction: its event in the outbox, its audit row.

Every path that changes rows (CRUD operations, transitions, a handler's row helpers, hooks)
hands its change to its table's `Recorder` before the transaction commits; `ctx.emit`
writes an event of the team's own. Nothing here waits for a network: the relay delivers
the outbox's rows once they are committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from backsmith.events.message import masked
from backsmith.http.shaping import default_json
from backsmith.model.types import Model, Resource
from backsmith.settings import SettingError, Settings, setting
from backsmith.storage.event_tables import AUDIT, EVENT_LOG, OUTBOX
from backsmith.storage.ids import uuid7_text
from backsmith.storage.statements import Connection
from backsmith.storage.tables import build_table

CREATED, UPDATED, DELETED = "created", "updated", "deleted"
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


@dataclass(frozen=True, slots=True)
class Target:
    """Where events go: a webhook URL or a broker URL (its password masked), and which
    event types it takes (None: every one)."""

    name: str
    types: frozenset[str] | None = None

    def takes(self, event_type: str) -> bool:
        return self.types is None or event_type in self.types


def targets_of(model: Model, settings: Settings) -> tuple[Target, ...]:
    """The delivery targets the settings name, for a contract that publishes events; a
    SettingError when targets are named for one that publishes none, when one is named
    twice (brokers' URLs compared with their passwords masked), or when production signs
    webhooks with no secret."""
    named = settings.webhook_urls or settings.broker_urls
    if not model.events.publishes:
        if named:
            which = "webhooks" if settings.webhook_urls else "events_url"
            raise SettingError(
                f"{setting(which).env}: {which} is set but the contract publishes no events; "
                "declare x-backsmith: {events: true} at its root (or a webhooks section)"
            )
        return ()
    if settings.webhook_urls and settings.production and not settings.webhook_secret:
        raise SettingError(
            f"{setting('webhook_secret').env}: webhook_secret must be set in production when "
            "webhooks are (whsec_ and 24 to 64 random bytes in base64)"
        )
    declared = model.events.webhook_types
    webhook_types = frozenset(declared) if declared is not None else None
    found = [Target(url, webhook_types) for url in settings.webhook_urls]
    found += [Target(masked(url)) for url in settings.broker_urls]
    seen: set[str] = set()
    for target in found:  # an event's delivery to a target is known by the two
        if target.name in seen:
            which = "webhooks" if target.name in settings.webhook_urls else "events_url"
            raise SettingError(f"{setting(which).env}: {target.name} is named twice")
        seen.add(target.name)
    return tuple(found)


OUTBOX_ROWS = build_table(OUTBOX, sa.MetaData())
EVENT_LOG_ROWS = build_table(EVENT_LOG, sa.MetaData())
AUDIT_ROWS = build_table(AUDIT, sa.MetaData())


class Outbox:
    """Writes events, one row per target that takes them, in the caller's transaction."""

    __slots__ = ("targets",)

    def __init__(self, targets: Sequence[Target]) -> None:
        self.targets = tuple(targets)

    async def write(
        self,
        conn: Connection,
        event_type: str,
        data: Any,
        *,
        resource: str | None = None,
        key: Any = None,
        subject: str | None = None,
        operation: str | None = None,
    ) -> str | None:
        """The new event's id, or None when no target takes its type."""
        targets = [t for t in self.targets if t.takes(event_type)]
        if not targets:
            return None
        event_id = uuid7_text()  # time-ordered: its index grows at one end, as seq's does
        now = datetime.now(UTC)
        body = orjson.dumps(data, default=default_json).decode()
        common = {
            "event_id": event_id,
            "type": event_type,
            "resource": resource,
            "resource_key": None if key is None else str(key),
            "subject": subject,
            "operation": operation,
            "data": body,
            "occurred_at": now,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "locked_until": None,
            "last_error": None,
            "delivered_at": None,
        }
        rows = [{**common, "target": target.name} for target in targets]
        statement = conn.compiled(("backsmith outbox", len(rows)), _insert_rows(len(rows)))
        await conn.execute(
            statement, {f"{k}_{i}": v for i, r in enumerate(rows) for k, v in r.items()}
        )
        return event_id


def _insert_rows(count: int) -> Any:
    """INSERT of `count` outbox rows in one statement, its parameters named `<column>_<i>`."""
    columns = [c.name for c in OUTBOX_ROWS.c if c.name != "seq"]

    def build() -> Any:
        values: list[dict[str, Any]] = [
            {c: sa.bindparam(f"{c}_{i}") for c in columns} for i in range(count)
        ]
        return sa.insert(OUTBOX_ROWS).values(values)

    return build


class Emitter:
    """`ctx.emit`: events of the team's own, written to the outbox in the caller's transaction."""

    __slots__ = ("outbox", "publishes", "tables")

    def __init__(self, model: Model, settings: Settings) -> None:
        self.publishes = model.events.publishes
        # order.paid with a key is about a row of orders: in order with that row's events
        self.tables = {model.events.event_name(table): table for table in model.resources}
        targets = targets_of(model, settings)
        self.outbox = Outbox(targets) if targets else None

    async def emit(
        self,
        conn: Connection,
        event_type: str,
        data: Any,
        key: Any,
        subject: str | None,
        operation: str | None,
    ) -> str | None:
        if not self.publishes:
            raise RuntimeError(
                f"emit('{event_type}'): the contract publishes no events; declare "
                "x-backsmith: {events: true} at its root (or a webhooks section)"
            )
        if self.outbox is None:  # published, but no webhook or broker configured to take it
            return None
        resource = self.tables.get(event_type.split(".", 1)[0]) if key is not None else None
        return await self.outbox.write(
            conn,
            event_type,
            data,
            resource=resource,
            key=key,
            subject=subject,
            operation=operation,
        )


@dataclass(frozen=True, slots=True)
class Change:
    """One row's change: stored rows before and after, and the row as the API answered it."""

    action: str  # created, updated or deleted
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    item: Any = None
    subject: str | None = None
    operation: str | None = None


class Recorder:
    """One table's changes recorded: an event for each target, and an audit row if audited."""

    __slots__ = ("audited", "event_name", "fields", "key", "outbox", "resource", "state")

    def __init__(
        self,
        resource: Resource,
        event_name: str,
        outbox: Outbox | None,
        audited: bool,
        state_column: str | None,
    ) -> None:
        self.resource = resource
        self.event_name = event_name
        self.outbox = outbox if outbox is not None and outbox.targets else None
        self.audited = audited
        self.state = state_column
        # What a record may show of a row: never a password hash, a hidden or writeOnly value.
        self.fields = [
            (f.name, f.column) for f in resource.fields if not (f.hidden or f.write_only)
        ]
        self.key = resource.key.column

    @property
    def active(self) -> bool:
        return self.outbox is not None or self.audited

    def event_type(self, change: Change) -> str:
        """order.created, order.deleted; order.<state> when the lifecycle's state moved."""
        state, before, after = self.state, change.before, change.after
        # A write that did not read the row first did not write its state: no move.
        if change.action != UPDATED or not state or before is None or after is None:
            return f"{self.event_name}.{change.action}"
        if after[state] != before[state]:
            return f"{self.event_name}.{after[state]}"
        return f"{self.event_name}.{change.action}"

    def values(self, row: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if row is None:
            return None
        return {name: row[column] for name, column in self.fields if column in row}

    async def record(self, conn: Connection, change: Change) -> None:
        row = change.after if change.after is not None else change.before
        key = row[self.key] if row is not None and self.key in row else None
        event_type = self.event_type(change)
        if self.outbox is not None:
            data = change.item if change.item is not None else self.values(row)
            await self.outbox.write(
                conn,
                event_type,
                data,
                resource=self.resource.table,
                key=key,
                subject=change.subject,
                operation=change.operation,
            )
        if self.audited:
            action = event_type.rsplit(".", 1)[1]
            await _audit(conn, self, key, action, change)


async def _audit(
    conn: Connection, recorder: Recorder, key: Any, action: str, change: Change
) -> None:
    def dumped(row: Mapping[str, Any] | None) -> str | None:
        values = recorder.values(row)
        return None if values is None else orjson.dumps(values, default=default_json).decode()

    statement = conn.compiled("backsmith audit", _insert_audit)
    await conn.execute(
        statement,
        {
            "resource": recorder.resource.table,
            "resource_key": None if key is None else str(key),
            "action": action,
            "subject": change.subject,
            "operation": change.operation,
            "at": datetime.now(UTC),
            "before": dumped(change.before),
            "after": dumped(change.after),
        },
    )


def _insert_audit() -> Any:
    columns = [c.name for c in AUDIT_ROWS.c if c.name != "seq"]
    return sa.insert(AUDIT_ROWS).values({c: sa.bindparam(c) for c in columns})


def recorders(model: Model, settings: Settings) -> dict[str, Recorder]:
    """By table, the recorder of each table whose changes leave events or audit rows."""
    targets = targets_of(model, settings)
    outbox = Outbox(targets) if targets else None
    facts = model.events
    found = {}
    for resource in model.resources.values():
        lifecycle = model.lifecycles.get(resource.table)
        recorder = Recorder(
            resource,
            facts.event_name(resource.table),
            outbox,
            resource.table in facts.audited,
            lifecycle.column if lifecycle is not None else None,
        )
        if recorder.active:
            found[resource.table] = recorder
    return found
