"""Hooks around one CRUD write, run inside the write's own transaction.

A before-hook sees the values about to be written by property name (`ctx.values`) and
may change them; before an update or a delete it also sees the row as stored
(`ctx.row`). An after-hook sees the row as the operation answers it. Any hook may read
and write other rows through `ctx.rows` and `ctx.sql`, and refuse with a `Problem`: the
transaction then rolls back and nothing of the write is left.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from backsmith.events.recorder import Emitter
from backsmith.http.request import Request
from backsmith.logic.context import Bridge, Caller, Context, call
from backsmith.logic.loading import Bound
from backsmith.logic.rows import ResourceAccess
from backsmith.model.types import Field, Resource
from backsmith.settings import Settings
from backsmith.storage.statements import Connection
from backsmith.storage.values import from_json


class WriteHooks:
    """One operation's before- and after-hook, with how values are named for them."""

    __slots__ = (
        "after",
        "before",
        "columns",
        "events",
        "fields",
        "names",
        "operation_id",
        "resources",
        "settings",
    )

    def __init__(
        self,
        operation_id: str,
        hooks: Mapping[str, Bound],
        resource: Resource,
        body_names: Mapping[str, str],
        resources: Mapping[str, ResourceAccess],
        settings: Settings,
        events: Emitter,
    ) -> None:
        self.operation_id = operation_id
        self.before = next((b for m, b in hooks.items() if m.startswith("before-")), None)
        self.after = next((b for m, b in hooks.items() if m.startswith("after-")), None)
        visible = [f for f in resource.fields if not f.hidden]
        # column -> the name a hook sees: the body's own name where it has one
        self.names = {f.column: f.name for f in visible} | dict(body_names)
        self.columns = {name: column for column, name in self.names.items()}
        self.fields: dict[str, Field] = {f.column: f for f in visible}
        self.resources = resources
        self.settings = settings
        self.events = events

    async def run_before(
        self, conn: Connection, request: Request, values: dict[str, Any], row: Any = None
    ) -> dict[str, Any]:
        """The values to write (by column) once the before-hook has seen them."""
        if self.before is None:
            return dict(values)  # callers may empty what they passed before taking this
        fields = self.fields
        named = {self.names[c]: _plain(value) for c, value in values.items() if c in fields}
        ctx = self._context(conn, request, named, self._plain(row))
        await call(self.before.function, self.before.is_async, ctx)
        kept = {c: value for c, value in values.items() if c not in fields}  # never shown
        return {**kept, **self._columns(ctx.values or {})}

    async def run_after(self, conn: Connection, request: Request, item: Any) -> None:
        if self.after is not None:
            ctx = self._context(conn, request, None, item)
            await call(self.after.function, self.after.is_async, ctx)

    def _context(
        self, conn: Connection, request: Request, values: dict[str, Any] | None, row: Any
    ) -> Context:
        parsed = request.parsed
        principal = request.principal
        return Context(
            self.operation_id,
            dict(parsed.path),
            dict(parsed.query),
            parsed.body,
            Caller.of(principal),
            self.settings,
            conn,
            principal,
            self.resources,
            Bridge(),
            values=values,
            row=row,
            _events=self.events,
        )

    def row_of(self, row: Any) -> dict[str, Any] | None:
        """A stored row as a hook sees it: by property name."""
        return self._plain(row)

    def _plain(self, row: Any) -> dict[str, Any] | None:
        if row is None:
            return None
        keys = row.keys()  # a driver's record iterates over its values, not its keys
        return {self.names.get(k, k): _plain(row[k]) for k in keys if k in self.fields}

    def _columns(self, named: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        errors = []
        for name, value in named.items():
            column = self.columns.get(name, name)
            field = self.fields.get(column)
            if field is None:
                errors.append({"detail": f"a hook set '{name}', which is no property"})
                continue
            try:
                values[column] = from_json(field, value)
            except (TypeError, ValueError, ArithmeticError):
                errors.append({"detail": f"a hook set '{name}' to no valid {field.type}"})
        if errors:  # the team's code wrote what the table cannot hold: a fault, not the client's
            raise RuntimeError(f"hook values refused: {errors}")
        return values


def _plain(value: Any) -> Any:
    """A key as text, as rows read back on every database, so a hook compares like with like."""
    return str(value) if isinstance(value, UUID) else value
