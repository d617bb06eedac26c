"""Transitions: a move the schema's lifecycle does not allow is refused with 409.

For an operation declaring `transition: {to: S}` the suite moves a row to S, then asks for
the same move again (S -> S is no move the rule lists). For an update of a resource whose
schema declares transitions, it asks for a state the row's state may not go to.
"""

from __future__ import annotations

from typing import Any

from backsmith.model.lifecycles import Lifecycle
from backsmith.model.types import Kind, Operation
from backsmith.verify.suite.cases import (
    Suite,
    create_row,
    lifecycle_of,
    stored_rows,
    valid_request,
)
from backsmith.verify.suite.client import Answer
from backsmith.verify.suite.results import Verdict, failed, not_applicable, passed

CONFLICT = 409


def transition(suite: Suite, op: Operation) -> Verdict:
    resource = suite.resource_of(op)
    lifecycle = lifecycle_of(suite, resource)
    if op.policies.transition is not None and lifecycle is not None:
        return _repeated_move(suite, op, lifecycle, op.policies.transition.to)
    if op.kind in (Kind.UPDATE, Kind.REPLACE) and lifecycle is not None:
        return _illegal_update(suite, op, lifecycle)
    return not_applicable("declares no transition")


def movable_row(suite: Suite, op: Operation) -> dict[str, Any] | str:
    """A row whose state may move to the operation's target: a stored one, else a new one."""
    assert op.policies.transition is not None
    to = op.policies.transition.to
    resource = suite.resource_of(op)
    lifecycle = lifecycle_of(suite, resource)
    rows = stored_rows(suite, op)
    if lifecycle is None or resource is None or isinstance(rows, str):
        return rows if isinstance(rows, str) else "no lifecycle to move rows through"
    for row in rows:
        if to in lifecycle.allowed.get(str(row.get(lifecycle.column)), ()):
            return row
    made = create_row(suite, resource)
    if isinstance(made, dict) and to in lifecycle.allowed.get(str(made.get(lifecycle.column)), ()):
        return made
    return f"no row of {resource.table} is in a state that may move to {to}"


def _repeated_move(suite: Suite, op: Operation, lifecycle: Lifecycle, to: str) -> Verdict:
    if to in lifecycle.allowed.get(to, ()):
        return not_applicable(f"{to} may move to {to} again: no illegal move to ask for")
    row = movable_row(suite, op)
    if isinstance(row, str):
        return not_applicable(row)
    request = valid_request(suite, op, row)
    if isinstance(request, str):
        return not_applicable(request)
    first = suite.send(request)
    if not first.ok:
        return not_applicable(f"the first move to {to} was answered {first.status}")
    again = valid_request(suite, op, row)
    assert not isinstance(again, str)
    second = suite.send(again)
    if second.status != CONFLICT:
        reason = f"moving a row already {to} to {to} answered {second.status}, expected 409"
        return failed(reason, again.line, second.status)
    return passed()


def _illegal_update(suite: Suite, op: Operation, lifecycle: Lifecycle) -> Verdict:
    """A new row (else a stored one) is moved by allowed steps to the nearest state with a
    move the rule does not list, then asked for that move."""
    resource = suite.resource_of(op)
    assert resource is not None
    made = create_row(suite, resource)
    stored = stored_rows(suite, op)
    rows = [made] if isinstance(made, dict) else []
    rows += stored if isinstance(stored, list) else []
    rows = [row for row in rows if row.get(lifecycle.column) is not None]
    if not rows:
        return not_applicable(f"no row with a {lifecycle.name} to move")
    row = rows[0]
    steps = _steps_to_illegal(lifecycle, str(row[lifecycle.column]))
    if steps is None:
        return not_applicable(f"every state of {lifecycle.name} may move to every other")
    *moves, illegal = steps
    for state in moves:
        answer = _move(suite, op, lifecycle, row, state)
        if isinstance(answer, Verdict):
            return answer
        if not answer.ok:
            return not_applicable(f"the allowed move to {state} answered {answer.status}")
        row[lifecycle.column] = state
    answer = _move(suite, op, lifecycle, row, illegal)
    if isinstance(answer, Verdict):
        return answer
    if answer.status != CONFLICT:
        state = row[lifecycle.column]
        reason = f"{lifecycle.name} {state} -> {illegal} answered {answer.status}, expected 409"
        return failed(reason, f"{op.method} {op.path}", answer.status)
    return passed()


def _move(
    suite: Suite, op: Operation, lifecycle: Lifecycle, row: dict[str, Any], state: str
) -> Answer | Verdict:
    request = valid_request(suite, op, row)
    if isinstance(request, str):
        return not_applicable(request)
    body = _with_state(op, request.body, lifecycle.name, state)
    if body is None:
        return not_applicable(f"its body does not carry {lifecycle.name}")
    return suite.send(request.with_body(body))


def _steps_to_illegal(lifecycle: Lifecycle, start: str) -> list[str] | None:
    """Allowed moves from `start` to the nearest state with an illegal move, then that
    move's target; None when no state has one."""
    states = sorted({*lifecycle.allowed, *(s for n in lifecycle.allowed.values() for s in n)})
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        here = path[-1]
        illegal = [s for s in states if s != here and s not in lifecycle.allowed.get(here, ())]
        if illegal:
            return [*path[1:], illegal[0]]
        for step in lifecycle.allowed.get(here, ()):
            if step not in seen:
                seen.add(step)
                paths.append([*path, step])
    return None


def _with_state(op: Operation, body: Any, name: str, state: str) -> Any:
    """The body with the state property set (inside the wrapper, if the body has one);
    None when the body schema has no such property."""
    if not isinstance(body, dict) or op.body_fields is None:
        return None
    if name not in op.body_fields.properties:
        return None
    if op.body_wrapper:
        inner = body.get(op.body_wrapper)
        return (
            {**body, op.body_wrapper: {**inner, name: state}} if isinstance(inner, dict) else None
        )
    return {**body, name: state}
