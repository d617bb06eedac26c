"""The happy path: one valid request, answered with a declared 2xx that the contract's
schema and media type for that status hold."""

from __future__ import annotations

from typing import Any

from backsmith.model.types import Kind, Operation
from backsmith.verify.suite.answers import nonconformity
from backsmith.verify.suite.cases import (
    Suite,
    create_row,
    remember,
    stored_rows,
    unsupported,
    valid_request,
)
from backsmith.verify.suite.checks_transitions import movable_row
from backsmith.verify.suite.client import Answer, Request
from backsmith.verify.suite.results import Outcome, Verdict, failed, not_applicable, passed

DESTROYS = (Kind.DELETE,)
TRIES = 3  # stored rows a custom operation is tried on
REFUSED = "a valid request was refused"


def happy_path(suite: Suite, op: Operation) -> Verdict:
    why = unsupported(suite, op)
    if why:
        return not_applicable(why)
    rows = _rows(suite, op)
    if isinstance(rows, str):
        return not_applicable(rows)
    verdict = not_applicable("no row to send it to")
    for row in rows:  # a custom operation may refuse one row's state and take another's
        verdict = _try(suite, op, row)
        if verdict.outcome != Outcome.NA or not verdict.reason.startswith(REFUSED):
            return verdict
    return verdict


def _try(suite: Suite, op: Operation, row: dict[str, Any]) -> Verdict:
    note = ""
    for example in _examples(suite, op):
        request = valid_request(suite, op, row, body=example)
        if isinstance(request, str):
            return not_applicable(request)
        answer = suite.send(request)
        if answer.ok or answer.status >= 500:
            return judge(suite, op, request, answer, row, "the contract's example")
        note = f"; the contract's example was answered {answer.status}, a made body was sent"
    request = valid_request(suite, op, row)
    if isinstance(request, str):
        return not_applicable(request)
    verdict = judge(suite, op, request, suite.send(request), row, "a valid request")
    return Verdict(verdict.outcome, verdict.reason + note, verdict.request, verdict.status)


def judge(
    suite: Suite,
    op: Operation,
    request: Request,
    answer: Answer,
    row: dict[str, Any],
    what: str,
) -> Verdict:
    """A 2xx the contract declares, in its declared shape; a custom operation's declared
    refusal (a 409 for a state the suite could not set up) is not applicable."""
    expected = suite.expects(op)
    if not answer.ok:
        declared = expected.response_for(answer.status)
        custom = op.kind == Kind.CUSTOM or op.policies.serves
        if custom and 400 <= answer.status < 500 and declared is not None:
            return not_applicable(
                f"{REFUSED if what == 'a valid request' else what + ' was refused'} with its "
                f"declared {answer.status}: a custom operation's preconditions are its own, "
                "beyond what the contract says"
            )
        if custom and answer.status == 501 and op.policies.serves:
            reason = "its handler answers 501 Not Implemented: not written yet"
            return failed(reason, request.line, answer.status)
        if custom and answer.status == 501:
            return not_applicable("answers 501 Not Implemented: no code serves it yet")
        success = ", ".join(expected.success) or "2xx"
        return failed(
            f"{what} answered {answer.status}, expected {success}", request.line, answer.status
        )
    problem = nonconformity(expected, answer)
    if problem:
        return failed(problem, request.line, answer.status)
    remember(suite, op, row, answer)
    return passed()


def _rows(suite: Suite, op: Operation) -> list[dict[str, Any]] | str:
    """The rows to try the request on: a new one for a delete, one in a state the move
    allows for a transition, a new one then stored ones for a handler, else a stored one."""
    if op.policies.transition is not None:
        row = movable_row(suite, op)
        return row if isinstance(row, str) else [row]
    resource = suite.resource_of(op)
    fresh = op.kind in DESTROYS or op.kind == Kind.CUSTOM
    made = create_row(suite, resource) if fresh and resource is not None else None
    rows = stored_rows(suite, op)
    if isinstance(made, dict):
        return (
            [made, *rows[:TRIES]] if op.kind == Kind.CUSTOM and isinstance(rows, list) else [made]
        )
    if isinstance(rows, str):
        return rows
    return (
        [rows[-1]] if op.kind in DESTROYS else rows[:TRIES] if op.kind == Kind.CUSTOM else rows[:1]
    )


def _examples(suite: Suite, op: Operation) -> list[Any]:
    """The contract's request examples that its own body schema accepts."""
    if op.body_validation is None:
        return []
    examples = suite.expects(op).examples
    if not examples:
        return []
    return [example for example in examples if not suite.body_errors(op, example)]
