"""A write and its event in one statement, on PostgreSQL: no transaction to open and close.

A create or an update that publishes an event would otherwise run BEGIN, the write, the
outbox INSERT and COMMIT: four round trips where the write alone takes one. PostgreSQL
runs data-modifying CTEs as one atomic statement, so the write becomes

    WITH changed AS (INSERT INTO orders ... RETURNING *),
         recorded AS (INSERT INTO backsmith_outbox (...) SELECT ..., <the item> FROM changed)
    SELECT * FROM changed

and the event's data, the row as the operation answers it, is written by SQL from the
row the write returns: the same members, date-times at the same precision, keys as text.
An update that finds no row inserts no event. Only flat items whose every member SQL can
write the same way take this path; the others, SQLite, audited tables and lifecycle moves
(whose event type depends on the state before) keep the transaction.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSON, JSONB

from backsmith.events.recorder import OUTBOX_ROWS, PENDING, Recorder
from backsmith.http.shaping import Shaper
from backsmith.storage.ids import uuid7_text
from backsmith.storage.statements import constant

# to_char's patterns for each precision, as `http.shaping.stamp_writer` writes date-times
_STAMPS = {
    "seconds": 'YYYY-MM-DD"T"HH24:MI:SS"Z"',
    "milliseconds": 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"',
    "microseconds": 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"',
}


class OneStatement:
    """One operation's write with its event beside it; `call` makes one request's part."""

    __slots__ = (
        "event_type",
        "json_columns",
        "members",
        "operation",
        "recorder",
        "stamp",
        "targets",
    )

    def __init__(
        self,
        recorder: Recorder,
        event_type: str,
        members: list[tuple[str, str, bool, str, bool]],
        precision: str,
        operation: str,
        json_columns: set[str],
    ) -> None:
        self.recorder = recorder
        self.event_type = event_type
        self.members = members
        self.stamp = constant(_STAMPS.get(precision.strip().lower(), _STAMPS["milliseconds"]))
        self.operation = operation
        self.json_columns = json_columns  # their JSON null reads as None, as NULL does
        assert recorder.outbox is not None
        self.targets = [t.name for t in recorder.outbox.targets if t.takes(event_type)]

    @staticmethod
    def made(recorder: Recorder | None, action: str, shaper: Shaper | None, op: str) -> Any:
        """The one-statement form of an operation's writes, or None where it cannot be."""
        if recorder is None or recorder.outbox is None or recorder.audited or shaper is None:
            return None
        if recorder.state is not None:  # order.<state> needs the state before
            return None
        found = shaper.column_members()
        if found is None:
            return None
        # (name, column, null shown, how written, whether the column may hold NULL)
        members = [(*m, bool(shaper.table.c[m[1]].nullable)) for m in found]
        json_columns = {c.name for c in shaper.table.c if isinstance(c.type, sa.JSON)}
        event_type = f"{recorder.event_name}.{action}"
        made = OneStatement(recorder, event_type, members, shaper.precision, op, json_columns)
        return made if made.targets else None

    def call(self, subject: str | None) -> Beside:
        return Beside(self, {"e_id": uuid7_text(), "e_subject": subject})

    def around(self, write: Any) -> Any:
        changed = write.cte("changed")
        key = sa.cast(changed.c[self.recorder.key], sa.Text)
        data = sa.cast(self._item(changed), sa.Text)
        now = sa.func.now()
        rows = [
            sa.select(
                sa.bindparam("e_id", type_=sa.String),
                constant(target),
                constant(self.event_type),
                constant(self.recorder.resource.table),
                key,
                sa.bindparam("e_subject", type_=sa.String),
                constant(self.operation),
                data,
                now,
                constant(PENDING),
                constant(0),
                now,
            ).select_from(changed)
            for target in self.targets
        ]
        columns = [
            "event_id",
            "target",
            "type",
            "resource",
            "resource_key",
            "subject",
            "operation",
            "data",
            "occurred_at",
            "status",
            "attempts",
            "next_attempt_at",
        ]
        source = rows[0] if len(rows) == 1 else sa.union_all(*rows)
        recorded = sa.insert(OUTBOX_ROWS).from_select(columns, source).cte("recorded")
        return sa.select(changed).add_cte(recorded)

    def _item(self, changed: Any) -> Any:
        """The row as the operation answers it, written by SQL: an object of every member,
        and of each that is left out when it is null, only where it is not.

        `json_build_object` where every member is always there: it writes the members in
        the answer's order as it goes, where `jsonb` builds a value, sorts its keys and
        writes it out again (about a tenth of PostgreSQL's CPU for the whole create).
        """
        always: list[Any] = []
        optional: list[Any] = []
        for name, column, null_shown, how, nullable in self.members:
            value = changed.c[column]
            written: Any = value
            if how == "text":
                written = sa.cast(value, sa.Text)
            elif how == "stamp":
                written = sa.func.to_char(sa.func.timezone(constant("UTC"), value), self.stamp)
            if null_shown or not nullable:
                always += [constant(name), written]
            else:
                pair = sa.func.jsonb_build_object(constant(name), written, type_=JSONB)
                empty = sa.cast(constant("{}"), JSONB)
                missing = value.is_(None)
                if column in self.json_columns:
                    kind = sa.func.jsonb_typeof(sa.cast(value, JSONB))
                    missing = sa.or_(missing, kind == constant("null"))
                optional.append(sa.case((missing, empty), else_=pair))
        if not optional:
            return sa.func.json_build_object(*always, type_=JSON)
        item: Any = sa.func.jsonb_build_object(*always, type_=JSONB)
        for part in optional:
            item = item.op("||")(part)
        return item


class Beside:
    """One request's event beside its write: its id and its caller (`storage.Beside`)."""

    __slots__ = ("key", "params", "statement")

    def __init__(self, statement: OneStatement, params: dict[str, Any]) -> None:
        self.statement = statement
        self.key = id(statement)  # compiled once per operation
        self.params = params

    def around(self, write: Any) -> Any:
        return self.statement.around(write)
