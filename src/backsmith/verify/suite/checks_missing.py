"""Not found: a path naming a row that does not exist is answered 404.

The last path parameter that names a row (the item's key, or the parent of a nested list
or create) is given a value no stored row has and the parameter's schema accepts; the
rest of the request stays valid.
"""

from __future__ import annotations

from typing import Any

from backsmith.bench.requests import row_address
from backsmith.http.validation import SchemaValidator
from backsmith.model.types import FieldType, Kind, Operation, Param, ParamLocation, ParamRole
from backsmith.verify.suite.cases import Suite, unsupported, valid_request, with_path_param
from backsmith.verify.suite.results import Verdict, failed, not_applicable, passed

MISSING_INTEGER = 2_000_000_000  # past any row a test makes, within every integer column
MISSING_UUID = "00000000-0000-4000-8000-000000000000"
MISSING_TEXTS = ("backsmith-missing-404", "missing404", "404404", "zz")


def not_found(suite: Suite, op: Operation) -> Verdict:
    why = unsupported(suite, op)
    if why:
        return not_applicable(why)
    address = row_address(op, suite.resource_of(op))
    if isinstance(address, str):
        return not_applicable(address)
    if not address:
        return not_applicable("no path parameter names a row")
    if op.kind == Kind.CUSTOM and 404 not in op.error_statuses:
        return not_applicable("a custom operation that declares no 404")
    name, column = address[-1]
    param = next(p for p in op.params if p.name == name and p.location == ParamLocation.PATH)
    resource = suite.resource_of(op)
    named = param.role != ParamRole.SCOPE or any(
        r.columns == (column,) for r in (resource.relations if resource is not None else ())
    )
    if not named:
        return not_applicable(f"{name} scopes rows by a value no table holds: any value is valid")
    field = resource.field(column) if resource is not None else None
    value = missing_value(param, field.type if field is not None else None)
    if value is None:
        return not_applicable(f"no value of {name} that its schema accepts names nothing")
    request = valid_request(suite, op)
    if isinstance(request, str):
        return not_applicable(request)
    target = with_path_param(op, request.target, name, value)
    if target is None:
        return not_applicable(f"{name} is not in the path")
    sent = request.with_target(target)
    answer = suite.send(sent)
    expected = statuses_for_missing(op)
    if answer.status not in expected:
        listed = " or ".join(str(status) for status in sorted(expected))
        reason = f"{name}={value}, which names nothing, answered {answer.status}, expected {listed}"
        return failed(reason, sent.line, answer.status)
    return passed("" if answer.status == 404 else f"{answer.status}: 404 is not declared")


def statuses_for_missing(op: Operation) -> frozenset[int]:
    """404; where the operation declares error statuses but not 404, the 400 or 422 it does
    declare stand in (a service answers in the statuses its contract declares)."""
    errors = op.errors
    if errors.declares(404) or not (errors.statuses or errors.ranges):
        return frozenset({404})
    return frozenset({404, *(status for status in (400, 422) if errors.declares(status))})


def missing_value(param: Param, column: FieldType | None = None) -> str | None:
    """A value of the parameter's schema, and of its column's type, that no row has."""
    schema: dict[str, Any] = dict(param.validation or {})
    kinds = set(param.types)
    if kinds & {"integer", "number"}:
        largest = schema.get("maximum")
        value = MISSING_INTEGER if not isinstance(largest, int) else min(largest, MISSING_INTEGER)
        candidates: tuple[str, ...] = (str(value),)
    elif schema.get("format") == "uuid" or column == FieldType.UUID:
        candidates = (MISSING_UUID,)
    elif column in (FieldType.INTEGER, FieldType.NUMBER, FieldType.DECIMAL):
        candidates = (str(MISSING_INTEGER),)
    else:
        candidates = (*MISSING_TEXTS, MISSING_UUID)
    validator = SchemaValidator(schema) if schema else None
    for text in candidates:
        decoded: Any = int(text) if text.isdigit() and kinds & {"integer", "number"} else text
        if validator is None or not validator.errors(decoded):
            return text
    return None
