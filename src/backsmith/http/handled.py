"""Operations served by the team's own function: the plan, and the handler that calls it.

The function runs inside the operation's unit of work, in a transaction: what it writes
through `ctx.rows` and `ctx.sql` commits when it returns, and nothing is left when it
raises. A `Problem` it raises is answered as it says; any other exception is a 500 with a
request id, its traceback in the log. Its answer is encoded as CRUD answers are (date-times
at the configured precision) and, outside production, checked against the contract's
schema for the success response, so a handler that drifts from the contract is caught by
its tests, not by its clients.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from backsmith.errors import Problem
from backsmith.events.recorder import Emitter, Recorder
from backsmith.http.faults import run_answering
from backsmith.http.plans import OperationPlan
from backsmith.http.request import Request
from backsmith.http.response import Response, empty, json_response
from backsmith.http.shaping import Shaper, default_json, stamp_writer
from backsmith.http.validation import SchemaValidator
from backsmith.logic.context import Bridge, Caller, Context, call
from backsmith.logic.loading import Bound, load_table_hooks
from backsmith.logic.rows import ResourceAccess
from backsmith.model.facts import declared_answer
from backsmith.model.types import Kind, Model
from backsmith.security.accounts import AccountStore
from backsmith.settings import Settings
from backsmith.storage.database import Database

log = logging.getLogger("backsmith.handlers")


class HandledPlan(OperationPlan):
    """An operation whose work is a function of the team's (set as `bound` once built)."""

    bound: Bound
    resources: Mapping[str, ResourceAccess]
    events: Emitter

    def _compile(
        self, model: Model, tables: dict[str, sa.Table], accounts: AccountStore | None
    ) -> None:
        self.parses = True  # the function gets validated inputs, whatever its kind
        self.answer = declared_answer(model, self.operation)
        self.write_stamp = stamp_writer(self.settings.datetime_precision)
        schema = None if self.settings.production else self.answer.validation
        self.answer_check = SchemaValidator(schema) if schema is not None else None


def resource_access(
    model: Model,
    tables: dict[str, sa.Table],
    settings: Settings,
    records: Mapping[str, Recorder],
) -> dict[str, ResourceAccess]:
    """Each resource's helpers, found by its resource name and by its table's; their rows
    shaped as the resource's read operation answers them."""
    reads = {
        op.resource: op.response.shape
        for op in reversed(model.operations)  # the first read of a resource wins
        if op.kind == Kind.READ and op.resource and op.response and op.response.shape
    }
    precision = settings.datetime_precision
    hooks = load_table_hooks(model)  # a handler's row helpers run the schemas' hooks
    found: dict[str, ResourceAccess] = {}
    for resource in model.resources.values():
        if resource.table in tables:
            shape = reads.get(resource.name)
            shaper = Shaper(shape, model, tables, precision) if shape is not None else None
            access = ResourceAccess(model, resource, tables, settings.admin_role_names, shaper)
            found_hooks = hooks.get(resource.table, {})
            access.hooks = {m: (b.function, b.is_async) for m, b in found_hooks.items()}
            access.recorder = records.get(resource.table)
            found.setdefault(resource.name, access)
            found.setdefault(resource.table, access)
    return found


async def handle_handled(plan: HandledPlan, database: Database, request: Request) -> Response:
    parsed = request.parsed
    principal = request.principal
    bound = plan.bound
    op = plan.operation

    async def work(conn: Any) -> Any:
        ctx = Context(
            op.operation_id,
            dict(parsed.path),
            dict(parsed.query),
            parsed.body,
            Caller.of(principal),
            plan.settings,
            conn,
            principal,
            plan.resources,
            Bridge(),
            _events=plan.events,
        )
        # Answered inside the transaction: an answer that cannot be made (outside the
        # schema, not JSON) rolls the writes back, so a client's retry never doubles them.
        return _answer(plan, await call(bound.function, bound.is_async, ctx))

    response: Response = await run_answering(database, work, transaction=True)
    return response


def _answer(plan: HandledPlan, result: Any) -> Response:
    answer = plan.answer
    if answer.media_type is None or answer.status == 204:
        return empty(answer.status)
    body = orjson.dumps(_plain(result, plan), default=default_json)
    if plan.answer_check is not None:
        errors = plan.answer_check.errors(orjson.loads(body))
        if errors:
            first = errors[0]
            raise _drifted(plan, f"{first['pointer']}: {first['detail']}", len(errors))
    return json_response(answer.status, body)


def _plain(value: Any, plan: HandledPlan) -> Any:
    """Date-times written as every answer writes them; the rest as orjson does."""
    if isinstance(value, datetime):
        return plan.write_stamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item, plan) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item, plan) for item in value]
    return value


def _drifted(plan: HandledPlan, first: str, count: int) -> Problem:
    op = plan.operation
    more = f" (and {count - 1} more)" if count > 1 else ""
    log.error(
        "handler %s of %s answered outside the contract's schema for %s: %s%s",
        plan.bound.name,
        op.operation_id,
        plan.answer.status,
        first,
        more,
    )
    return Problem(
        f"The handler of '{op.operation_id}' answered outside the contract's schema "
        f"({first}{more}); this check runs outside production only."
    )
