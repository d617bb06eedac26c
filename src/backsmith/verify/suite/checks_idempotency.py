"""Idempotency, where declared: the same key and body replays the first answer; the same key
with another body is refused (409 or 422); a required key left out is a 400."""

from __future__ import annotations

from backsmith.model.policies import Idempotency
from backsmith.model.types import Operation
from backsmith.verify.suite.cases import Suite, valid_request
from backsmith.verify.suite.results import Verdict, failed, not_applicable, passed

KEY = "Idempotency-Key"
REUSED = frozenset({409, 422})
MISSING = frozenset({400, 422, 428})


def idempotency(suite: Suite, op: Operation) -> Verdict:
    mode = op.policies.idempotency
    if mode is None:
        return not_applicable("declares no idempotency")
    if op.method not in ("POST", "PATCH"):
        return not_applicable(f"a {op.method}: keys are honoured on POST and PATCH")
    request = valid_request(suite, op)
    if isinstance(request, str):
        return not_applicable(request)
    keyed = request.with_header(KEY, suite.key())
    first = suite.send(keyed)
    if not first.ok:
        return not_applicable(f"the first keyed request answered {first.status}")
    again = suite.send(keyed)
    if again.status != first.status or again.json() != first.json():
        reason = (
            f"the same key and body answered {again.status} with another body, "
            f"not the first answer ({first.status}) replayed"
        )
        return failed(reason, keyed.line, again.status)
    other = valid_request(suite, op)
    if isinstance(other, str) or other.body == request.body:
        return not_applicable("no second body to send with the same key")
    reused = suite.send(other.with_header(KEY, keyed.header(KEY) or ""))
    if reused.status not in REUSED:
        reason = f"the same key with another body answered {reused.status}, expected 409 or 422"
        return failed(reason, other.line, reused.status)
    if mode == Idempotency.REQUIRED:
        bare = other.without_header(KEY)
        answer = suite.send(bare)
        if answer.status not in MISSING:
            reason = f"no {KEY}, which it requires, answered {answer.status}, expected 400"
            return failed(reason, bare.line, answer.status)
    return passed("replayed; another body refused")
