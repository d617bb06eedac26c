"""One resource's rows as a handler reads and changes them, through the statements CRUD uses.

Every helper runs on the handler's own transaction. Where the resource is owned, a caller
who is not an admin reads, changes and deletes their own rows only, and new rows are theirs,
exactly as the CRUD operations do it (`security.ownership`). Values are named by the API's
property names (or column names) and converted as a request body's are; the server's own
columns (keys it generates, timestamps) are filled as on a create or an update. Rows come
back as the resource's read operation answers them (computed and embedded members, dates
as text), or as plain column values where it has none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol
from uuid import UUID

import sqlalchemy as sa

from backsmith.errors import NotFound
from backsmith.events.recorder import CREATED, DELETED, UPDATED, Change, Recorder
from backsmith.model.lifecycles import Lifecycle
from backsmith.model.types import Field, Model, Resource
from backsmith.security.ownership import Ownership, rule
from backsmith.security.tokens import Principal
from backsmith.storage.ordering import order_keys
from backsmith.storage.queries import TableQueries
from backsmith.storage.statements import Connection
from backsmith.storage.values import Stamps, from_json

Row = dict[str, Any]
# Named here: inside `Rows`, whose helper is called `list`, the builtin is out of reach.
Clauses = list[Any]
RowList = list[Row]
# The schema's hook for a moment: (function, whether it is async).
Hook = tuple[Callable[..., Any], bool]
# Runs a hook on the handler's context with `values` and `row`; the values it leaves.
HookRunner = Callable[[Hook, "Row | None", "Row | None"], Awaitable["Row | None"]]


class ItemShaper(Protocol):
    """How the resource's read operation shapes its rows (`http.shaping.Shaper`)."""

    @property
    def flat(self) -> bool: ...

    def one(self, row: Any) -> dict[str, Any]: ...

    def extras(self, subject: Any) -> list[Any]: ...

    def bound(self, subject: Any) -> dict[str, Any]: ...

    async def shape(
        self, conn: Connection, rows: Sequence[Any], subject: Any = None
    ) -> list[dict[str, Any]]: ...

    async def reload(self, conn: Connection, row: Any, subject: Any) -> dict[str, Any]: ...


class ResourceAccess:
    """What the helpers need of one resource, compiled once at start-up."""

    __slots__ = (
        "fields",
        "hooks",
        "lifecycle",
        "owner",
        "owner_reads",
        "queries",
        "recorder",
        "resource",
        "shaper",
        "stamps",
    )

    def __init__(
        self,
        model: Model,
        resource: Resource,
        tables: dict[str, sa.Table],
        admin_roles: frozenset[str],
        shaper: ItemShaper | None = None,
    ) -> None:
        table = tables[resource.table]
        owner = model.owners.get(resource.table)
        self.resource = resource
        self.queries = TableQueries(table)
        self.stamps = Stamps(resource)
        # Reads of public rows are anyone's; changes are always the owner's.
        self.owner_reads: Ownership | None = rule(owner, table, tables, admin_roles, True)
        self.owner: Ownership | None = rule(owner, table, tables, admin_roles, False)
        self.fields = [f for f in resource.fields if not f.hidden]
        self.shaper = shaper
        self.lifecycle: Lifecycle | None = model.lifecycles.get(resource.table)
        self.hooks: dict[str, Hook] = {}  # the schema's, by moment (set once imported)
        self.recorder: Recorder | None = None  # its events and audit rows, when it has any


class Rows:
    """The helpers over one resource, bound to a handler's transaction and caller."""

    def __init__(
        self,
        plan: ResourceAccess,
        conn: Connection,
        principal: Principal | None,
        run_hook: HookRunner | None = None,
        operation: str | None = None,
    ) -> None:
        self._plan = plan
        self._conn = conn
        self._principal = principal
        self._run_hook = run_hook
        self._operation = operation  # the operation (or job) whose work this is, for records

    async def get(self, key: Any, *, lock: bool = False) -> Row | None:
        """The row with this key, or None (also when it is another owner's private row).

        `lock`: the caller's own row, locked until the transaction ends, so what is read
        (stock left) still holds when it is written back: concurrent handlers take turns.
        """
        if lock:
            equals, where, params = self._address(key, self._plan.owner)
            found = await self._plan.queries.fetch_one(
                self._conn, equals, for_update=True, where=where, params=params
            )
            if found is None:
                return None
            equals = {c: found[c] for c in self._plan.resource.primary_key}
            where, params = [], {}
        else:
            equals, where, params = self._address(key, self._plan.owner_reads)
        extras, params = self._extras(params)
        row = await self._plan.queries.fetch_one(
            self._conn, equals, extras=extras, where=where, params=params
        )
        return (await self._items([row]))[0] if row is not None else None

    async def list(self, *, limit: int = 100, **equal: Any) -> RowList:
        """Up to `limit` rows whose properties equal the values given, in key order."""
        plan = self._plan
        equals = {self._field(name).column: self._value(name, v) for name, v in equal.items()}
        where: Clauses = []
        params: dict[str, Any] = {}
        if plan.owner_reads is not None:
            plan.owner_reads.narrow(self._principal, equals, where, params)
        order = order_keys(plan.queries.table, plan.resource, list(plan.resource.primary_key))
        extras, params = self._extras(params)
        rows = await plan.queries.page(
            self._conn, equals, order, max(limit, 0), None, 0, extras, where, params
        )
        return await self._items(rows)

    async def create(self, values: dict[str, Any] | None = None, **named: Any) -> Row:
        """A new row; where the resource is owned, the caller's (unless an admin names one)."""
        plan = self._plan
        asked = {**(values or {}), **named}
        given = self._columns(asked)
        owner = plan.owner
        # As CRUD does it: the caller owns the new row (an admin may name another), and a
        # row owned through a reference may only refer to a row the caller owns.
        through = owner is not None and owner.own_new_row(
            self._principal, given, asked, self._names, "#"
        )
        values = {**plan.stamps.values(creating=True), **given}
        if through and owner is not None:
            await owner.require_owned_reference(
                self._conn, values, self._principal, False, self._names, "#"
            )
        if "before-create" in plan.hooks:  # the schema's hook may change what is written
            values = await self._hooked("before-create", values, None)
        row = await plan.queries.insert(self._conn, values)
        item = await self._written(row)
        await self._record(CREATED, None, row, item)
        await self._after("after-create", item)
        return item

    async def update(self, key: Any, values: dict[str, Any] | None = None, **named: Any) -> Row:
        """The row changed; NotFound (a 404) when there is no such row of the caller's."""
        asked = {**(values or {}), **named}
        changes = self._columns(asked)
        owner = self._plan.owner
        # Never handed to another owner, nor moved under a row the caller does not own.
        if owner is not None and owner.claim_change(
            self._principal, changes, asked, self._names, "#"
        ):
            await owner.require_owned_reference(
                self._conn, changes, self._principal, False, self._names, "#"
            )
        return await self._update(key, changes, False)

    async def move(self, key: Any, state: str) -> Row:
        """The row moved to `state` by its lifecycle rule: a 409 unless its state lists it,
        also when the row is in that state already."""
        lifecycle = self._plan.lifecycle
        if lifecycle is None:
            raise KeyError(f"{self._plan.resource.name} declares no transitions")
        return await self._update(key, {lifecycle.column: state}, True)

    async def _update(self, key: Any, changes: dict[str, Any], moving: bool) -> Row:
        plan = self._plan
        equals, where, params = self._address(key, plan.owner)
        for column in plan.resource.primary_key:
            changes.pop(column, None)
        hooked = "before-update" in plan.hooks
        lifecycle = plan.lifecycle if plan.lifecycle and plan.lifecycle.column in changes else None
        current = None
        audited = plan.recorder is not None and plan.recorder.audited  # keeps the row before
        if where or lifecycle is not None or hooked or audited:  # read under a lock first
            current = await plan.queries.fetch_one(
                self._conn, equals, for_update=True, where=where, params=params
            )
            if current is None:
                raise NotFound("No such item.")
        changes.update(plan.stamps.values(creating=False))
        if hooked:
            changes = await self._hooked("before-update", changes, current)
            lifecycle = plan.lifecycle  # the hook may have set the state itself
        if lifecycle is not None and current is not None and lifecycle.column in changes:
            lifecycle.check(current[lifecycle.column], changes[lifecycle.column], moving)
        row = await plan.queries.update(self._conn, equals, changes)
        if row is None:
            raise NotFound("No such item.")
        item = await self._written(row)
        await self._record(UPDATED, current, row, item)
        await self._after("after-update", item)
        return item

    async def delete(self, key: Any) -> bool:
        """Whether a row of the caller's with this key was there to delete."""
        plan = self._plan
        equals, where, params = self._address(key, plan.owner)
        if where or "before-delete" in plan.hooks:
            current = await plan.queries.fetch_one(
                self._conn, equals, for_update=True, where=where, params=params
            )
            if current is None:
                return False
            await self._hooked("before-delete", {}, current)
        row = await plan.queries.delete(self._conn, equals)
        if row is not None:
            await self._record(DELETED, row, None, None)
            await self._after("after-delete", self._item(row))
        return row is not None

    async def link(self, values: dict[str, Any] | None = None, **named: Any) -> bool:
        """A join table's row (wishlists: customer_id, book_id) added unless it is there;
        whether it was added. Ownership, hooks, events and the audit apply as to `create`."""
        asked = {**(values or {}), **named}
        key = self._plan.resource.primary_key
        missing = [c for c in key if self._field(c).name not in asked and c not in asked]
        if missing:
            raise KeyError(f"link: name every key of {self._plan.resource.name}: {missing}")
        keys = {c: asked.get(self._field(c).name, asked.get(c)) for c in key}
        if await self.get(keys, lock=True) is not None:
            return False
        await self.create(asked)
        return True

    async def unlink(self, values: dict[str, Any] | None = None, **named: Any) -> bool:
        """The join table's row with these keys removed; whether it was there."""
        asked = {**(values or {}), **named}
        return await self.delete(asked)

    async def _record(self, action: str, before: Any, after: Any, item: Row | None) -> None:
        recorder = self._plan.recorder
        if recorder is not None:
            change = Change(action, before, after, item, self._subject, self._operation)
            await recorder.record(self._conn, change)

    async def _hooked(self, moment: str, values: dict[str, Any], current: Any) -> dict[str, Any]:
        """The values to write (by column) once the schema's hook for `moment` has seen
        them by property name; columns the API never shows pass around it."""
        hook = self._plan.hooks.get(moment)
        if hook is None or self._run_hook is None:
            return values
        names = self._names
        named = {names[c]: _text_key(value) for c, value in values.items() if c in names}
        row = self._item(current) if current is not None else None
        left = await self._run_hook(hook, named, row)
        kept = {c: value for c, value in values.items() if c not in names}
        return {**kept, **self._columns(left or {})}

    async def _after(self, moment: str, item: Row) -> None:
        hook = self._plan.hooks.get(moment)
        if hook is not None and self._run_hook is not None:
            await self._run_hook(hook, None, item)

    def _address(
        self, key: Any, owner: Ownership | None
    ) -> tuple[dict[str, Any], Clauses, dict[str, Any]]:
        resource = self._plan.resource
        keys = key if isinstance(key, dict) else {resource.primary_key[0]: key}
        equals = {self._field(name).column: self._value(name, v) for name, v in keys.items()}
        where: Clauses = []
        params: dict[str, Any] = {}
        if owner is not None:
            owner.narrow(self._principal, equals, where, params)
        return equals, where, params

    @property
    def _names(self) -> dict[str, str]:
        """Column -> the property a helper's caller names it by."""
        return {f.column: f.name for f in self._plan.fields}

    def _field(self, name: str) -> Field:
        field = self._plan.resource.field(name)
        if field is None or field.hidden:
            known = ", ".join(f.name for f in self._plan.fields)
            raise KeyError(f"{self._plan.resource.name} has no property '{name}' ({known})")
        return field

    def _value(self, name: str, value: Any) -> Any:
        return from_json(self._field(name), value)

    def _columns(self, values: dict[str, Any]) -> dict[str, Any]:
        return {self._field(name).column: self._value(name, v) for name, v in values.items()}

    @property
    def _subject(self) -> Any:
        return self._principal.subject if self._principal is not None else None

    def _extras(self, params: dict[str, Any]) -> tuple[Clauses, dict[str, Any]]:
        shaper = self._plan.shaper
        if shaper is None or shaper.flat:
            return [], params
        return shaper.extras(self._subject), {**params, **shaper.bound(self._subject)}

    async def _items(self, rows: Sequence[Any]) -> RowList:
        shaper = self._plan.shaper
        if shaper is None:
            return [self._item(row) for row in rows]
        return await shaper.shape(self._conn, rows, self._subject)

    async def _written(self, row: Any) -> Row:
        shaper = self._plan.shaper
        if shaper is None:
            return self._item(row)
        if shaper.flat:
            return shaper.one(row)
        return await shaper.reload(self._conn, row, self._subject)

    def _item(self, row: Any) -> Row:
        return {f.name: row[f.column] for f in self._plan.fields if not f.write_only}


def _text_key(value: Any) -> Any:
    """A UUID as text, as rows read back on every database: hooks compare like with like."""
    return str(value) if isinstance(value, UUID) else value
