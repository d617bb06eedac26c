"""Rate limits, where declared and small: one request past the limit is a 429 with
Retry-After. Run last, so the quota spent here costs no other check."""

from __future__ import annotations

import time

from backsmith.model.types import Operation
from backsmith.verify.suite.cases import Suite, valid_request
from backsmith.verify.suite.results import Verdict, failed, not_applicable, passed, requests

WAIT_SECONDS = 5.0  # a spent window this short is waited out before counting
LARGEST = 200  # a larger limit takes too many requests for a quick suite (100/minute is common)


def rate_limit(suite: Suite, op: Operation) -> Verdict:
    limit = op.policies.rate_limit
    if limit is None:
        return not_applicable("declares no rate limit")
    window = min(limit.windows, key=lambda w: w.count)
    if window.count > LARGEST:
        return not_applicable(f"{limit.describe()}: above {LARGEST}, too many requests to check")
    line = ""
    number = 0
    while number <= window.count:
        request = valid_request(suite, op)
        if isinstance(request, str):
            return not_applicable(request)
        line = request.line
        answer = suite.send(request, patient=False)
        number += 1
        if answer.status != 429:
            continue
        wait = answer.headers.get("retry-after", "")
        if not wait:
            return failed("429 without Retry-After", line, 429)
        if number == 1 and _short(wait):  # earlier checks spent the window: start afresh
            time.sleep(float(wait))
            number = 0
            continue
        return passed(f"429 after {requests(number)} ({window.describe()})")
    reason = f"{window.count + 1} requests in a row, none answered 429 ({window.describe()})"
    return failed(reason, line)


def _short(wait: str) -> bool:
    try:
        return 0 <= float(wait) <= WAIT_SECONDS
    except ValueError:
        return False
