"""The outbox and the audit trail as people read and mend them: `backsmith events` and
`backsmith audit`.

    backsmith events list      # the latest events, each target's delivery state
    backsmith events retry     # dead-lettered events go out again (or the ids given)
    backsmith events replay ID # an event delivered again, under the same id
    backsmith audit orders 42  # every recorded change of order 42
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from backsmith.errors import BacksmithError
from backsmith.events.recorder import AUDIT_ROWS, DEAD, OUTBOX_ROWS, PENDING

_EVENTS, _AUDIT = OUTBOX_ROWS, AUDIT_ROWS


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
    """The latest outbox rows, newest first: one per event and target."""
    _require(conn, _EVENTS, _NO_OUTBOX)
    query = sa.select(_EVENTS).order_by(_EVENTS.c.seq.desc()).limit(limit)
    if status:
        query = query.where(_EVENTS.c.status == status)
    return [dict(row._mapping) for row in conn.execute(query)]


def retry(conn: sa.Connection, event_ids: Sequence[str]) -> int:
    """Dead-lettered rows (of these events, or all) pending again, their attempts restarted."""
    _require(conn, _EVENTS, _NO_OUTBOX)
    where: list[Any] = [_EVENTS.c.status == DEAD]
    if event_ids:
        where.append(_EVENTS.c.event_id.in_(list(event_ids)))
    return _again(conn, where)


def replay(conn: sa.Connection, event_ids: Sequence[str], target: str | None = None) -> int:
    """These events delivered again, whatever their state: same id, same body."""
    _require(conn, _EVENTS, _NO_OUTBOX)
    where: list[Any] = [_EVENTS.c.event_id.in_(list(event_ids))]
    if target:
        where.append(_EVENTS.c.target == target)
    return _again(conn, where)


def _again(conn: sa.Connection, where: list[Any]) -> int:
    now = datetime.now(UTC)
    again = (
        sa.update(_EVENTS)
        .where(*where)
        .values(
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            locked_until=None,
            delivered_at=None,
        )
    )
    count = conn.execute(again).rowcount
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
