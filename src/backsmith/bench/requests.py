"""Each operation's requests, valid per the contract, as the raw bytes the generators send.

Reads, updates and custom operations address stored rows (every path parameter from one
row, so a nested path names a child of its own parent); lists go as they are; creates
carry bodies with fresh unique values. What cannot be measured is left out with a reason:
account operations, custom ones nothing serves (they answer 501), DELETEs unless asked
for, and operations whose credentials or rows the run does not have.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from backsmith.bench.bodies import BodyMaker, NoBody, designed
from backsmith.bench.callers import Caller, Minting, caller_for
from backsmith.bench.pool import RowPool, path_text
from backsmith.model.policies import Idempotency, idempotency_of
from backsmith.model.types import (
    ACCOUNT_KINDS,
    Kind,
    Model,
    Operation,
    ParamLocation,
    ParamRole,
    Resource,
)

# The kind a --mix names for each kind of the model.
GROUPS: dict[Kind, str] = {
    Kind.READ: "read",
    Kind.LIST: "list",
    Kind.CREATE: "create",
    Kind.LINK: "create",
    Kind.UPDATE: "update",
    Kind.REPLACE: "update",
    Kind.DELETE: "delete",
    Kind.UNLINK: "delete",
    Kind.CUSTOM: "custom",
}
# Answers a kind may give without fault: a row an earlier request of the run deleted or
# still referred to; a custom rule refusing a row's state (a second cancel is a 409).
ALLOWED: dict[str, frozenset[int]] = {
    "delete": frozenset({404, 409}),
    "custom": frozenset({404, 409, 422}),
}
RATE_LIMITED = frozenset({429})  # allowed where the contract declares a rate limit
# Writes go after reads, deletes last, so that no operation measures rows another removed.
_ORDER = ("list", "read", "create", "update", "custom", "delete")
DISTINCT = 200  # requests per operation that cycle; creates get fresh ones


@dataclass(frozen=True, slots=True)
class Planned:
    """One operation: how its requests are made, and the error statuses its kind allows.

    Most operations cycle through `distinct` requests; a create (`distinct` None) gets
    fresh ones, numbered on from where the last batch stopped, so its unique values never
    repeat however long it runs.
    """

    op: Operation
    group: str
    allowed: frozenset[int]
    make: Callable[[int], bytes]  # request number -> the request
    distinct: int | None

    @property
    def consumes(self) -> bool:
        return consumes(self.op)

    def batch(self, start: int, count: int) -> list[bytes]:
        """The requests of one run: the cycle, or `count` fresh ones from number `start`."""
        if self.distinct is not None:
            return [self.make(number) for number in range(self.distinct)]
        return [self.make(start + number) for number in range(count)]


def consumes(op: Operation) -> bool:
    """Whether each request changes its row for good (a delete, a state transition), so
    that a second round over the rows would measure only refusals."""
    return op.kind in (Kind.DELETE, Kind.UNLINK) or op.policies.transition is not None


@dataclass(frozen=True, slots=True)
class LeftOut:
    operation_id: str
    method: str
    path: str
    reason: str


@dataclass(slots=True)
class Plan:
    planned: list[Planned] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Choice:
    """Which operations a run measures."""

    ops: tuple[str, ...] = ()  # named: measured even if a DELETE
    groups: tuple[str, ...] = ()  # a --mix: only these kinds
    include_deletes: bool = False
    serial: int = 1_000_000  # unique values start here, past every seeded row's


def plan_requests(
    model: Model, pool: RowPool, minting: Minting, host: str, choice: Choice, prefix: str = ""
) -> Plan:
    """The requests of every chosen operation, and the reasons the others are left out.

    `host` is the Host header sent; `prefix` a path the service is mounted under.
    """
    plan = Plan()
    bodies = BodyMaker(model, pool)
    chosen = [op for op in model.operations if not choice.ops or op.operation_id in choice.ops]
    chosen.sort(key=order_key(model))
    for index, op in enumerate(chosen):
        group = GROUPS.get(op.kind, "custom")
        if choice.groups and group not in choice.groups:
            continue
        reason = _left_out(op, choice)
        caller = Caller()
        if not reason:
            caller = caller_for(model, op, minting, pool)
            reason = caller.reason
        serial = choice.serial * (index + 1)  # each operation's unique values apart
        made = reason or _maker(model, op, pool, bodies, caller, (host, prefix), serial)
        if isinstance(made, str):
            plan.left_out.append(LeftOut(op.operation_id, op.method, op.path, made))
            continue
        allowed = ALLOWED.get(group, frozenset())
        if op.policies.rate_limit is not None:
            allowed |= RATE_LIMITED
        plan.planned.append(Planned(op, group, allowed, *made))
    return plan


def order_key(model: Model) -> Callable[[Operation], tuple[int, int]]:
    """Reads first, writes next, deletes last and children before parents: a delete then
    finds its rows still there, neither removed with a parent nor held by a child."""
    from backsmith.storage.tables import build_metadata

    tables = [table.name for table in build_metadata(model).sorted_tables]  # parents first

    def key(op: Operation) -> tuple[int, int]:
        group = _ORDER.index(GROUPS.get(op.kind, "custom"))
        resource = model.resources.get(op.resource or "")
        table = op.link.join or op.link.target if op.link is not None else None
        table = table or (resource.table if resource is not None else None)
        depth = tables.index(table) if table in tables else 0
        return group, -depth if GROUPS.get(op.kind) == "delete" else 0

    return key


def _left_out(op: Operation, choice: Choice) -> str:
    if op.kind in ACCOUNT_KINDS:
        return f"account operation ({op.kind}): not measured"
    if op.kind == Kind.CUSTOM and not op.policies.serves:
        return "custom operation with no handler: it answers 501"
    if op.method == "DELETE" and not choice.include_deletes and op.operation_id not in choice.ops:
        return "a DELETE: measured with --include-deletes"
    if op.policies.require_if_match and op.method in ("PUT", "PATCH", "DELETE"):
        return "the contract requires If-Match on it (require-if-match)"
    return ""


def _maker(
    model: Model,
    op: Operation,
    pool: RowPool,
    bodies: BodyMaker,
    caller: Caller,
    where: tuple[str, str],
    serial: int,
) -> tuple[Callable[[int], bytes], int | None] | str:
    """How the operation's requests are made and how many cycle, or why it has none."""
    resource = model.resources.get(op.resource or "")
    address = row_address(op, resource)
    if isinstance(address, str):
        return address
    rows: list[dict[str, Any]] = [{}]
    if address:
        assert resource is not None
        rows = pool.having(resource.table, [column for _, column in address])[:DISTINCT]
        rows = rows or parent_rows(resource, address, pool)
        if not rows:
            return f"no stored rows of {resource.table} to address it with"
    distinct: int | None = None if op.kind == Kind.CREATE else DISTINCT
    if op.kind == Kind.REPLACE or consumes(op):
        distinct = len(rows)  # one request per row: a repeat finds the row as it left it
    skip = frozenset(column for _, column in address)

    def make(number: int) -> bytes:
        row = rows[number % len(rows)]
        body = body_for(op, bodies, serial + number, skip)
        target = where[1] + request_target(op, address, row, pool, resource)
        return _raw(op, where[0], target, body, caller)

    try:
        make(0)  # a body that cannot be made says so now, not in the middle of the run
    except NoBody as why:
        return str(why)
    return make, distinct


def row_address(op: Operation, resource: Resource | None) -> list[tuple[str, str]] | str:
    """(path parameter, column of the operation's table) for every path parameter."""
    found = []
    keyed = dict(op.policies.transition.key) if op.policies.transition is not None else {}
    path_params = [p for p in op.params if p.location == ParamLocation.PATH]
    for param in path_params:
        column = param.column if not param.hops else None
        if column is None and resource is not None:
            named = resource.field(keyed.get(param.name, param.name))
            column = named.column if named is not None else None
            if column is None and len(path_params) == 1 and param.role != ParamRole.SCOPE:
                column = resource.key.column  # /orders/{orderId}/pay: the item's own key
        if column is None or resource is None:
            where = op.resource or "its table"
            return f"path parameter {param.name}: no column of {where} is known to hold it"
        found.append((param.name, column))
    return found


def parent_rows(
    resource: Resource, address: list[tuple[str, str]], pool: RowPool
) -> list[dict[str, Any]]:
    """Rows made of parents' keys, for an operation under a parent with no children yet
    (a create of the first line of an order): only when every parameter names a parent."""
    parents = []
    for _, column in address:
        relation = next((r for r in resource.relations if r.columns == (column,)), None)
        if relation is None:
            return []
        key = relation.target_columns[0]
        keys = [row[key] for row in pool.having(relation.target, [key])]
        if not keys:
            return []
        parents.append((column, keys))
    longest = max(len(keys) for _, keys in parents)
    return [{c: keys[i % len(keys)] for c, keys in parents} for i in range(min(longest, DISTINCT))]


def request_target(
    op: Operation,
    address: list[tuple[str, str]],
    row: dict[str, Any],
    pool: RowPool,
    resource: Resource | None,
) -> str:
    path = op.base_path + op.path
    for name, column in address:
        path = path.replace("{" + name + "}", quote(path_text(row[column]), safe=""))
    query = {}
    for param in op.params:
        if param.location != ParamLocation.QUERY or not param.required:
            continue
        value = row.get(param.column) if param.column and not param.hops else None
        if value is None and param.role == ParamRole.FILTER and param.column and resource:
            stored = pool.having(resource.table, [param.column])
            value = stored[0][param.column] if stored else None
        if value is None:
            value = param_value(param.validation or {})
        query[param.name] = path_text(value)
    return path + ("?" + urlencode(query) if query else "")


def param_value(schema: Mapping[str, Any]) -> Any:
    """A value the parameter's validation schema (the model's, for requests) accepts."""
    for key in ("default", "example"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind in ("integer", "number"):
        return designed(schema).get("minimum", 1)  # not int64's bound, a count's first value
    return True if kind == "boolean" else "bench"


def body_for(op: Operation, bodies: BodyMaker, serial: int, skip: frozenset[str]) -> Any:
    if op.body_validation is None:
        return None
    if op.kind in (Kind.UPDATE,):
        return bodies.patch(op, serial)
    if op.kind in (Kind.CREATE, Kind.REPLACE):
        return bodies.create(op, serial, skip)
    if op.body_required:  # a custom operation, or a link with a body: from its schema
        return bodies.create(op, serial, skip)
    return None


def _raw(op: Operation, host: str, target: str, body: Any, caller: Caller) -> bytes:
    """The request as it goes on the wire."""
    head = [f"{op.method} {target} HTTP/1.1", f"Host: {host}", "Accept: */*"]
    if caller.header is not None:
        head.append(f"{caller.header[0]}: {caller.header[1]}")
    if idempotency_of(op) == Idempotency.REQUIRED:
        head.append(f"Idempotency-Key: {uuid.uuid4()}")
    data = b""
    if body is not None:
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        media = op.body_media_types[0] if op.body_media_types else "application/json"
        head.append(f"Content-Type: {media}")
    if body is not None or op.method in ("POST", "PUT", "PATCH"):
        head.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data
