"""Fuzzing with schemathesis, used as a library, over HTTP against the service.

For each operation, `--examples` generated requests that the contract calls valid and as
many it calls invalid, derandomized (the same requests every run). Checked: no answer is a
5xx, every answer's body matches the schema declared for its status, and invalid data is
refused. Requests to secured operations carry the admin token, so they reach validation.
The first failure of an operation is kept; generation goes on without shrinking it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from backsmith.bench.callers import caller_for
from backsmith.model.types import Operation
from backsmith.verify.suite.cases import Suite, carried_by_headers, unsupported
from backsmith.verify.suite.results import Verdict, failed, not_applicable, passed, requests

TIMEOUT_SECONDS = 30


def fuzz(suite: Suite, ops: list[Operation], examples: int) -> dict[str, Verdict]:
    """The fuzz verdict of each operation."""
    if examples == 0:
        return {op.operation_id: not_applicable("fuzzing off (--examples 0)") for op in ops}
    import schemathesis

    # The contract as the service publishes it: all schemathesis needs, with no raw reads.
    schema = schemathesis.openapi.from_dict(json.loads(suite.model.published_openapi))
    verdicts = {}
    for op in ops:
        why = unsupported(suite, op)
        if why:
            verdicts[op.operation_id] = not_applicable(why)
            continue
        try:
            operation = schema.find_operation_by_id(op.operation_id)
        except Exception as error:  # schemathesis cannot read it: say so, do not stop the run
            reason = f"schemathesis cannot read it: {str(error).splitlines()[0]}"
            verdicts[op.operation_id] = not_applicable(reason)
            continue
        verdicts[op.operation_id] = _fuzz_one(suite, op, operation, examples)
    return verdicts


def _fuzz_one(suite: Suite, op: Operation, operation: Any, examples: int) -> Verdict:
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import checks
    from schemathesis.core.failures import Failure, FailureGroup
    from schemathesis.generation import GenerationMode

    caller = caller_for(suite.model, op, suite.minting, suite.pool)
    if caller.reason and not carried_by_headers(suite, op):
        return not_applicable(caller.reason)
    headers = dict(suite.client.headers)
    if caller.header is not None:
        headers[caller.header[0]] = caller.header[1]
    base = suite.client.base + suite.prefix + op.base_path
    conformance = [checks.not_a_server_error, checks.response_schema_conformance]
    modes = (
        (GenerationMode.POSITIVE, conformance),
        (GenerationMode.NEGATIVE, [*conformance, checks.negative_data_rejection]),
    )
    found: list[tuple[str, str, int]] = []
    sent = 0
    json = next((m for m in op.body_media_types if "json" in m), None)

    def check(case: Any, chosen: list[Any]) -> None:
        nonlocal sent
        if found or (json and case.media_type is not None and "json" not in case.media_type):
            return  # a form cannot carry a nested object: its invalid value would not arrive
        response = case.call(base_url=base, timeout=TIMEOUT_SECONDS)
        sent += 1
        try:
            case.validate_response(response, checks=chosen)
        except (Failure, FailureGroup) as error:
            line = f"{case.method} {response.request.path_url}"
            found.append((_first_line(error), line, response.status_code))

    for mode, chosen in modes:
        strategy = operation.as_strategy(generation_mode=mode, headers=headers or None)
        run = settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )(given(case=strategy)(_bound(check, chosen)))
        try:
            run()
        except Exception as error:  # a case schemathesis cannot build: the rest still stands
            if not found:
                return not_applicable(f"schemathesis could not generate: {_first_line(error)}")
    if found:
        reason, line, status = found[0]
        return failed(f"schemathesis: {reason}", line, status)
    return passed(f"{requests(sent, 'generated ')}")


def _bound(check: Callable[[Any, list[Any]], None], chosen: list[Any]) -> Callable[[Any], None]:
    """`check` with its checks bound: hypothesis takes no function with defaults."""

    def run(case: Any) -> None:
        check(case, chosen)

    return run


def _first_line(error: BaseException) -> str:
    """The failure's title, and the line that says what was sent or found."""
    failures = getattr(error, "exceptions", None) or [error]
    first = failures[0]
    title = getattr(first, "title", "") or str(first).split("\n")[0]
    lines = [line.strip() for line in str(getattr(first, "message", "")).splitlines()]
    lines = [line for line in lines if line and not line.startswith("Expected:")]
    telling = next((line for line in lines if line.startswith("Invalid component")), None)
    detail = "; ".join(line for line in (lines[0] if lines else "", telling) if line)
    text = f"{title}: {detail}" if detail else str(title)
    return text if len(text) <= 300 else text[:297] + "..."
