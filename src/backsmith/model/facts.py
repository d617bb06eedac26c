"""Request facts read from the raw schemas once: how parameters decode, what bodies may carry.

After this, nothing outside `contract/` and `model/` needs the OpenAPI document: each
parameter and body carries the JSON Schema it is validated against (request direction),
and account operations know where their wrappers, passwords and tokens are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import orjson

from backsmith.model.kinds import ACCOUNT_KINDS
from backsmith.model.schemas import (
    JsonSchemaConverter,
    branch_properties,
    deref,
    flatten,
    schema_types,
)
from backsmith.model.types import AccountFacts, BodyFacts, Model, Operation, Param

_STRING = frozenset({"string"})


def with_request_facts(
    document: dict[str, Any], openapi_version: str, operations: list[Operation]
) -> list[Operation]:
    """Each operation with its parameters' and body's facts filled in."""
    converter = JsonSchemaConverter(document, openapi_version, "request")
    return [_operation(document, converter, op) for op in operations]


def published(document: dict[str, Any]) -> bytes:
    """The contract as the JSON served at /openapi.json (YAML's `200:` keys as strings)."""
    return orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS)


def _operation(
    document: dict[str, Any], converter: JsonSchemaConverter, op: Operation
) -> Operation:
    body = op.body_schema
    return replace(
        op,
        params=tuple(_param(document, converter, p) for p in op.params),
        body_validation=converter.root(body) if body is not None else None,
        body_fields=_body_fields(document, op) if body is not None else None,
        account=_account(document, op) if op.kind in ACCOUNT_KINDS else None,
    )


def _param(document: dict[str, Any], converter: JsonSchemaConverter, param: Param) -> Param:
    schema = flatten(document, param.schema)
    items = flatten(document, schema.get("items", {}))
    return replace(
        param,
        types=frozenset(schema_types(schema)) or _STRING,
        item_types=frozenset(schema_types(items)) or _STRING,
        default=schema.get("default"),
        validation=converter.root(param.schema) if param.schema else None,
    )


def _body_fields(document: dict[str, Any], op: Operation) -> BodyFacts:
    """The properties of the body's item: inside the wrapper, when the body has one."""
    item = op.body_schema
    if op.body_wrapper and isinstance(item, dict):
        item = (flatten(document, item).get("properties") or {}).get(op.body_wrapper)
    flat = flatten(document, item) if item is not None else {}
    properties = branch_properties(document, item) if item is not None else {}
    allowed = flat.get("additionalProperties")
    return BodyFacts(
        properties=frozenset(properties),
        read_only=frozenset(n for n, s in properties.items() if _marked(document, s, "readOnly")),
        additional=None if allowed is None else allowed is not False,
    )


def _account(document: dict[str, Any], op: Operation) -> AccountFacts:
    body_wrapper = op.body_wrapper or _wrapper_of(document, op.body_schema)
    body = _properties(document, op.body_schema, body_wrapper)
    response = op.response
    answer = response.schema if response is not None else None
    declared = response.envelope.wrapper if response is not None else None
    answer_wrapper = declared or _wrapper_of(document, answer)
    # The model's item schema is inside a wrapper it found; one found here is not.
    answered = _properties(document, answer, None if declared else answer_wrapper)
    return AccountFacts(
        body_wrapper=body_wrapper,
        body_properties=tuple(body),
        write_only=tuple(n for n, s in body.items() if _marked(document, s, "writeOnly")),
        answer_wrapper=answer_wrapper,
        answer_properties=tuple(answered),
    )


def _marked(document: dict[str, Any], schema: Any, flag: str) -> bool:
    found = deref(document, schema)
    return isinstance(found, dict) and bool(found.get(flag))


def _properties(document: dict[str, Any], schema: Any, wrapper: str | None) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    properties: dict[str, Any] = flatten(document, schema).get("properties") or {}
    if wrapper is not None and wrapper in properties:
        properties = flatten(document, properties[wrapper]).get("properties") or {}
    return properties


def _wrapper_of(document: dict[str, Any], schema: Any) -> str | None:
    """The key of `{"auth": {...}}`-style bodies: one property holding an object."""
    properties = _properties(document, schema, None)
    if len(properties) != 1:
        return None
    ((name, only),) = properties.items()
    inner = flatten(document, only)
    return (
        name if "object" in str(inner.get("type", "object")) and inner.get("properties") else None
    )


@dataclass(frozen=True, slots=True)
class DeclaredAnswer:
    """An operation's success response as its contract declares it, for code of the team's
    to answer: the status, the JSON media type (None: no body) and the body's JSON Schema."""

    status: int
    media_type: str | None
    validation: dict[str, Any] | None


def declared_answer(model: Model, op: Operation) -> DeclaredAnswer:
    """The first 2xx response the operation declares (the one CRUD would answer with)."""
    document = model.document
    item = deref(document, (document.get("paths") or {}).get(op.path)) or {}
    responses = (item.get(op.method.lower()) or {}).get("responses") or {}
    statuses = sorted(
        str(code) for code in responses if str(code)[:1] == "2" and str(code).isdigit()
    )
    if op.response is not None:
        statuses = [str(op.response.status)]
    if not statuses:
        return DeclaredAnswer(204 if "2XX" not in responses else 200, None, None)
    status = statuses[0]
    declared = deref(document, responses.get(status, responses.get(int(status))))
    content = declared.get("content") if isinstance(declared, dict) else None
    media_type = next((m for m in content or {} if "json" in m.lower()), None)
    media = (content or {}).get(media_type) if media_type else None
    schema = media.get("schema") if isinstance(media, dict) else None
    if not isinstance(schema, dict):
        return DeclaredAnswer(int(status), media_type, None)
    converter = JsonSchemaConverter(document, model.openapi_version, "response")
    return DeclaredAnswer(int(status), media_type, converter.root(schema))
