"""Validation: invalid requests are refused with 400 or 422, never served and never a 5xx.

From one valid request the suite makes invalid ones, each breaking one rule of the
contract: a required body property left out, a property of the wrong JSON type, a value
past its `maxLength`, `maximum`, `minimum`, `minLength` or outside its `enum`, a property
the schema does not know where `additionalProperties` is false, and a parameter of the
wrong type or out of its range. Bounds that only restate a column's width (int32, int64)
are not probed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from backsmith.bench.bodies import body_schema, designed, json_types, resolve
from backsmith.http.validation import SchemaValidator
from backsmith.model.types import Operation, Param, ParamLocation
from backsmith.verify.suite.cases import Suite, unsupported, valid_request, with_path_param
from backsmith.verify.suite.client import Request
from backsmith.verify.suite.results import Verdict, failed, not_applicable, passed, requests

REFUSED = frozenset({400, 422})
PER_RULE = 8  # properties probed for each rule, at most
UNKNOWN = "backsmith_unknown_property"
_MALFORMED = ("not a valid value!", "0", "x")
_WRONG: tuple[tuple[str, Any], ...] = (
    ("integer", 12345),
    ("string", "backsmith"),
    ("boolean", True),
    ("object", {}),
)


@dataclass(frozen=True, slots=True)
class Probe:
    what: str  # "without required name", the broken rule in words
    request: Request
    refused: frozenset[int] = REFUSED


def validation(suite: Suite, op: Operation) -> Verdict:
    why = unsupported(suite, op)
    if why:
        return not_applicable(why)
    request = valid_request(suite, op)
    if isinstance(request, str):
        return not_applicable(request)
    probes = [*_body_probes(op, request), *_param_probes(op, request)]
    if not probes:
        return not_applicable("no body and no constrained parameter to break")
    failures = []
    for probe in probes:
        answer = suite.send(probe.request)
        if answer.status not in probe.refused:
            failures.append((probe, answer.status))
    if not failures:
        return passed(f"{requests(len(probes), 'invalid ')} refused")
    probe, status = failures[0]
    expected = " or ".join(str(s) for s in sorted(probe.refused))
    more = f" (and {len(failures) - 1} more of {len(probes)})" if len(failures) > 1 else ""
    kind = " (a server error)" if status >= 500 else ""
    reason = f"{probe.what}: answered {status}{kind}, expected {expected}{more}"
    return failed(reason, probe.request.line, status)


def _body_probes(op: Operation, request: Request) -> Iterator[Probe]:
    body = request.body
    if op.body_validation is None or not request.sends_body:
        return
    schema, defs = body_schema(op)
    item = body.get(op.body_wrapper) if op.body_wrapper and isinstance(body, dict) else body
    if not isinstance(item, dict):
        return
    properties = {n: resolve(p, defs) for n, p in (schema.get("properties") or {}).items()}

    def sent(changed: dict[str, Any]) -> Request:
        whole = {**body, op.body_wrapper: changed} if op.body_wrapper else changed
        return request.with_body(whole)

    required = [n for n in schema.get("required") or [] if n in item]
    for name in required[:PER_RULE]:
        yield Probe(f"without required {name}", sent({k: v for k, v in item.items() if k != name}))
    typed = [(n, p) for n, p in properties.items() if n in item and _types(p)]
    for name, prop in typed[:PER_RULE]:
        wrong = _wrong_value(_types(prop))
        if wrong is not None:
            yield Probe(f"{name} as {wrong!r} (wrong type)", sent({**item, name: wrong}))
    ranged = [(n, rule, value) for n, p in properties.items() for rule, value in _out_of_range(p)]
    for name, rule, value in ranged[:PER_RULE]:
        yield Probe(f"{name} {rule}", sent({**item, name: value}))
    closed = schema.get("additionalProperties") is False or (
        op.body_fields is not None and op.body_fields.additional is False
    )
    if closed and not op.ignore_unknown_fields and UNKNOWN not in properties:
        yield Probe(f"unknown property {UNKNOWN}", sent({**item, UNKNOWN: 1}))


def _param_probes(op: Operation, request: Request) -> Iterator[Probe]:
    """Parameters of the wrong type or out of range, in the query and the path."""
    parts = urlsplit(request.target)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    found = 0
    for param in op.params:
        if param.location not in (ParamLocation.QUERY, ParamLocation.PATH) or found >= PER_RULE:
            continue
        for rule, value in _param_values(param):
            found += 1
            text = value if isinstance(value, str) else str(value).lower()
            if param.location == ParamLocation.QUERY:
                target = parts.path + "?" + urlencode({**query, param.name: text})
                yield Probe(f"query {param.name}={text} {rule}", request.with_target(target))
            elif (path := with_path_param(op, request.target, param.name, text)) is not None:
                # A path that names nothing of that kind may fairly be not found.
                probe = Probe(f"path {param.name}={text} {rule}", request.with_target(path))
                yield Probe(probe.what, probe.request, REFUSED | {404})


def _param_values(param: Param) -> Iterator[tuple[str, Any]]:
    schema = designed(dict(param.validation or {}))
    types = _types(schema)
    if types and types <= {"integer", "number"}:
        yield "(wrong type)", "not-a-number"
    elif "boolean" in types and "string" not in types:
        yield "(wrong type)", "not-a-boolean"
    elif types == {"string"} and (schema.get("format") or schema.get("pattern")):
        rule = f"format {schema['format']}" if schema.get("format") else "pattern"
        validator = SchemaValidator(schema)
        broken = next((text for text in _MALFORMED if validator.errors(text)), None)
        if broken is not None:
            yield f"(breaks its {rule})", broken
    yield from _out_of_range(schema)


def _out_of_range(prop: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(rule in words, a value breaking it) for each bound the property declares."""
    prop = designed(prop)
    types = _types(prop)
    if "string" in types:
        if isinstance(prop.get("maxLength"), int):
            yield (
                f"of {prop['maxLength'] + 1} characters (maxLength)",
                "x" * (prop["maxLength"] + 1),
            )
        if isinstance(prop.get("minLength"), int) and prop["minLength"] > 0:
            yield (
                f"of {prop['minLength'] - 1} characters (minLength)",
                "x" * (prop["minLength"] - 1),
            )
    if types & {"integer", "number"}:
        for bound, step, rule in (("maximum", 1, "maximum"), ("minimum", -1, "minimum")):
            value = prop.get(bound)
            if isinstance(value, int | float) and not isinstance(value, bool):
                yield f"= {value + step} (past {rule} {value})", value + step
    enum = [v for v in prop.get("enum") or [] if v is not None]
    if enum and all(isinstance(v, str) for v in enum):
        yield "(not in its enum)", "backsmith-not-a-member"


def _types(prop: Mapping[str, Any]) -> set[str]:
    return json_types(prop) - {"null"}


def _wrong_value(types: set[str]) -> Any:
    for kind, value in _WRONG:
        numeric = kind == "integer" and types & {"integer", "number"}
        if kind not in types and not numeric:
            return value
    return None
