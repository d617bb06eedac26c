"""The outbox and the audit trail as people read and mend them: `backsmith events` and
`backsmith audit`.

    backsmith events list      # the latest events, each target's delivery state
    backsmith events retry     # dead-lettered events go out again (or the ids given)
    backsmith events replay ID # an event delivered again, under the same id
    backsmith audit orders 42  # every recorded change of order 42
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from backsmith.errors import BacksmithError
from backsmith.events.recorder import AUDIT_ROWS, DEAD, EVENT_LOG_ROWS, OUTBOX_ROWS, PENDING

_EVENTS, _LOG, _AUDIT = OUTBOX_ROWS, EVENT_LOG_ROWS, AUDIT_ROWS
_MOVED_AT_ONCE = 500  # rows moved back by one statement (each binds two parameters)


class LedgerUnavailable(BacksmithError):
    """The database keeps no outbox (or no audit trail): the contract declares none."""


def _require(conn: sa.Connection, table: sa.Table, declare: str) -> None:
    if not sa.inspect(conn).has_table(table.name):
        raise LedgerUnavailable(f"the database has no {table.name} table: {declare}")


_NO_OUTBOX = "the contract publishes no events, or its migrations are not applied"
_NO_AUDIT = (
    "the contract audits no table (x-backsmith: {audit: true}), or its migrations are not applied"
)


def list_events(
    conn: sa.Connection, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The latest events, newest first, one row per event and target: those still in the
    outbox and those the relay has moved to the event log."""
    _require(conn, _EVENTS, _NO_OUTBOX)
    _require(conn, _LOG, _NO_OUTBOX)
    both = sa.union_all(sa.select(_EVENTS), sa.select(_LOG)).subquery()
    newest = (both.c.occurred_at.desc(), both.c.seq.desc())
    query = sa.select(both).order_by(*newest).limit(limit)
    if status:
        query = query.where(both.c.status == status)
    return [dict(row._mapping) for row in conn.execute(query)]


def retry(conn: sa.Connection, event_ids: Sequence[str]) -> int:
    """Dead-lettered rows (of these events, or all) pending again, their attempts restarted."""
    _require(conn, _EVENTS, _NO_OUTBOX)

    def where(table: sa.Table) -> list[Any]:
        found: list[Any] = [table.c.status == DEAD]
        if event_ids:
            found.append(table.c.event_id.in_(list(event_ids)))
        return found

    return _again(conn, where)


def replay(conn: sa.Connection, event_ids: Sequence[str], target: str | None = None) -> int:
    """These events delivered again, whatever their state: same id, same body."""
    _require(conn, _EVENTS, _NO_OUTBOX)

    def where(table: sa.Table) -> list[Any]:
        found: list[Any] = [table.c.event_id.in_(list(event_ids))]
        if target:
            found.append(table.c.target == target)
        return found

    return _again(conn, where)


def _again(conn: sa.Connection, where: Callable[[sa.Table], list[Any]]) -> int:
    """The rows `where` picks pending in the outbox: reset where they still are, moved back
    from the event log where the relay left them (under a new `seq`, in their order, so
    they go out after what is already waiting for their instance)."""
    now = datetime.now(UTC)
    fresh = {
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "locked_until": None,
        "delivered_at": None,
    }
    count = conn.execute(sa.update(_EVENTS).where(*where(_EVENTS)).values(**fresh)).rowcount
    if sa.inspect(conn).has_table(_LOG.name):  # absent where migrations are not applied
        # The rows to move, locked: a relay may add rows to the log meanwhile, and those
        # must neither be deleted unmoved nor moved.
        keys = (
            sa.select(_LOG.c.event_id, _LOG.c.target)
            .where(*where(_LOG))
            .order_by(_LOG.c.occurred_at, _LOG.c.seq)  # in batches, still in their order
        )
        if conn.dialect.name == "postgresql":
            keys = keys.with_for_update()
        found = [tuple(row) for row in conn.execute(keys)]
        columns = [column.name for column in _EVENTS.c if column.name != "seq"]
        back = [
            sa.literal(fresh[name], _LOG.c[name].type) if name in fresh else _LOG.c[name]
            for name in columns
        ]
        for start in range(0, len(found), _MOVED_AT_ONCE):
            picked = sa.tuple_(_LOG.c.event_id, _LOG.c.target).in_(
                found[start : start + _MOVED_AT_ONCE]
            )
            ordered = sa.select(*back).where(picked).order_by(_LOG.c.occurred_at, _LOG.c.seq)
            conn.execute(sa.insert(_EVENTS).from_select(columns, ordered))
            count += conn.execute(sa.delete(_LOG).where(picked)).rowcount
    conn.commit()
    return int(count)


def audit_trail(
    conn: sa.Connection, resource: str, key: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """A table's recorded changes (of one row when `key` is given), oldest first."""
    _require(conn, _AUDIT, _NO_AUDIT)
    query = sa.select(_AUDIT).where(_AUDIT.c.resource == resource)
    if key is not None:
        query = query.where(_AUDIT.c.resource_key == key)
    newest = query.order_by(_AUDIT.c.seq.desc()).limit(limit).subquery()
    rows = conn.execute(sa.select(newest).order_by(newest.c.seq))
    return [dict(row._mapping) for row in rows]
