"""Lint rules on what the contract declares for each operation and property: ids clients
may set, missing 4xx answers and operationIds, personal data left unmarked, times without
an offset."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from backsmith.model.contract_sites import (
    at,
    every_property,
    request_properties,
    response_statuses,
)
from backsmith.model.naming import snake
from backsmith.model.types import Kind
from backsmith.verify.lint.rules import WARNING, Hit, Review, operation_name, rule

_BODY_WRITES = frozenset({Kind.CREATE, Kind.REPLACE, Kind.UPDATE})


@rule(
    "id-in-request-body",
    WARNING,
    "a request body that takes the row's key, not marked readOnly",
    "mark the key property readOnly: the server assigns it",
)
def id_in_request_body(review: Review) -> Iterator[Hit]:
    seen: set[str] = set()
    for op in review.served():
        resource = review.model.resources.get(op.resource or "")
        if op.kind not in _BODY_WRITES or resource is None or op.key_in_body:
            continue
        keys = {f.name for f in resource.fields if f.column in resource.primary_key}
        keys |= {f.name for f in resource.fields if f.primary_key and f.generated is not None}
        for site in request_properties(review.document, op.pointer):
            if site.name in keys and not site.schema.get("readOnly") and site.pointer not in seen:
                seen.add(site.pointer)
                yield Hit(
                    site.pointer,
                    f"{operation_name(op)} takes '{site.name}', the key of {resource.table} "
                    "rows, in its body, where nothing says clients may not set it",
                    scope=op.pointer,
                )


@rule(
    "no-4xx-response",
    WARNING,
    "an operation that declares no 4xx (or default) response",
    "declare the client errors it answers (400, 404, 422...) with their body",
)
def no_4xx_response(review: Review) -> Iterator[Hit]:
    for op in review.served():
        statuses = response_statuses(review.document, op.pointer)
        if not any(s.startswith("4") or s == "default" for s in statuses):
            yield Hit(
                f"{op.pointer}/responses",
                f"{operation_name(op)} declares no client error: clients cannot tell what "
                "a refused request looks like",
            )


@rule(
    "missing-operation-id",
    WARNING,
    "an operation with no operationId",
    "give it an operationId: handlers, logs, metrics and generated clients are named by it",
)
def missing_operation_id(review: Review) -> Iterator[Hit]:
    for op in review.served():
        operation = at(review.document, op.pointer)
        if isinstance(operation, dict) and not operation.get("operationId"):
            yield Hit(
                op.pointer,
                f"{op.method} {op.path} has no operationId (served as {op.operation_id}): "
                "the name changes whenever the path does",
            )


_SECRET_NAME = re.compile(
    r"^(?:\w+_)?(?:password|passwd|passcode|pin|secret|ssn)$|^(?:social_security|card_number)",
)
_EMAIL_NAME = re.compile(r"(?:^|_)e_?mail(?:_address)?$")
_PHONE_NAME = re.compile(r"(?:^|_)(?:phone|mobile|telephone|cell)(?:_number)?$")


@rule(
    "pii-unmarked",
    WARNING,
    "personal data (email, phone, password) without a format, a pattern or writeOnly",
    "a password: writeOnly: true; an email: format: email; a phone: a pattern or format",
)
def pii_unmarked(review: Review) -> Iterator[Hit]:
    for site in every_property(review.document):
        name, schema = snake(site.name), site.schema
        if not _is_string(schema):
            continue
        if _SECRET_NAME.search(name) and not schema.get("writeOnly"):
            yield Hit(
                site.pointer,
                f"'{site.name}' looks like a secret and is not writeOnly: nothing stops it "
                "from being answered back",
            )
        elif _EMAIL_NAME.search(name) and "format" not in schema and "pattern" not in schema:
            yield Hit(site.pointer, f"'{site.name}' is an email address with no format: email")
        elif _PHONE_NAME.search(name) and not {"format", "pattern"} & schema.keys():
            yield Hit(site.pointer, f"'{site.name}' is a phone number with no pattern or format")


def _is_string(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind)


# A date-time with its time but no Z or offset after it.
_NAIVE = re.compile(r"^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?$")
_TIME_NAME = re.compile(r"(?:_at|_time|^timestamp|_timestamp|_on)$")


@rule(
    "date-time-without-offset",
    WARNING,
    "a date-time whose example has no offset, or a time property with no format",
    "format: date-time, with examples such as 2026-01-31T09:30:00Z",
)
def date_time_without_offset(review: Review) -> Iterator[Hit]:
    for site in every_property(review.document):
        schema = site.schema
        if not _is_string(schema):
            continue
        if schema.get("format") == "date-time":
            naive = [v for v in _examples(schema) if isinstance(v, str) and _NAIVE.match(v)]
            if naive:
                yield Hit(
                    site.pointer,
                    f"'{site.name}' is a date-time, but its example {naive[0]!r} has no offset: "
                    "clients copying it send local times the server reads as UTC",
                )
        elif not {"format", "pattern"} & schema.keys() and _TIME_NAME.search(snake(site.name)):
            yield Hit(
                site.pointer,
                f"'{site.name}' looks like a point in time but is a plain string: "
                "nothing says it carries an offset",
            )


def _examples(schema: dict[str, Any]) -> list[Any]:
    found = [schema[key] for key in ("example", "default") if key in schema]
    examples = schema.get("examples")
    return found + (list(examples) if isinstance(examples, list) else [])
