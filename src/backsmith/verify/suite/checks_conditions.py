"""Conditional requests: a read's ETag sent back in If-None-Match is a 304; a write of the
item with a stale If-Match is a 412 (and, where If-Match is required, none is a 428).

Checked where the contract declares it (an ETag header, require-if-match) or the service
answers the read with an ETag: RFC 9110 then says what the conditions must do.
"""

from __future__ import annotations

from backsmith.model.types import Kind, Operation
from backsmith.verify.suite.cases import Suite, stored_rows, valid_request
from backsmith.verify.suite.results import Verdict, failed, not_applicable, passed

STALE = '"backsmith-stale-tag"'
WRITES = (Kind.UPDATE, Kind.REPLACE, Kind.DELETE)


def conditional(suite: Suite, op: Operation) -> Verdict:
    if op.kind == Kind.READ:
        return _read(suite, op)
    if op.kind in WRITES:
        return _write(suite, op)
    return not_applicable("not a read or a write of one item")


def _read(suite: Suite, op: Operation) -> Verdict:
    request = valid_request(suite, op)
    if isinstance(request, str):
        return not_applicable(request)
    answer = suite.send(request)
    tag = answer.headers.get("etag")
    if not answer.ok or not tag:
        declared = suite.expects(op).response_for(answer.status)
        if answer.ok and declared is not None and "etag" in declared.headers:
            return failed("the declared ETag header is missing", request.line, answer.status)
        return not_applicable(f"the read answered {answer.status} without an ETag")
    sent = request.with_header("If-None-Match", tag)
    again = suite.send(sent)
    if again.status != 304:
        reason = f"If-None-Match with its own ETag answered {again.status}, expected 304"
        return failed(reason, sent.line, again.status)
    return passed()


def _write(suite: Suite, op: Operation) -> Verdict:
    rows = stored_rows(suite, op)
    if isinstance(rows, str):
        return not_applicable(rows)
    row = rows[0]
    request = valid_request(suite, op, row)
    if isinstance(request, str):
        return not_applicable(request)
    if op.policies.require_if_match:
        bare = request.without_header("If-Match")
        answer = suite.send(bare)
        if answer.status != 428:
            reason = f"no If-Match, which it requires, answered {answer.status}, expected 428"
            return failed(reason, bare.line, answer.status)
    elif not _tagged(suite, op, row):
        return not_applicable("the item's read answers no ETag, so no If-Match can be stale")
    stale = request.with_header("If-Match", STALE)
    answer = suite.send(stale)
    if answer.status != 412:
        reason = f"a stale If-Match answered {answer.status}, expected 412"
        return failed(reason, stale.line, answer.status)
    return passed()


def _tagged(suite: Suite, op: Operation, row: dict[str, object]) -> bool:
    """Whether the read of the same item answers an ETag."""
    read = next(
        (
            other
            for other in suite.model.operations
            if other.kind == Kind.READ and other.path == op.path and other.base_path == op.base_path
        ),
        None,
    )
    if read is None:
        return False
    request = valid_request(suite, read, dict(row))
    if isinstance(request, str):
        return False
    answer = suite.send(request)
    return answer.ok and bool(answer.headers.get("etag"))
