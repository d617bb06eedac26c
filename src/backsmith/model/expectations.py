"""What a contract promises of each operation, read for tests of a running service.

The contract test suite (verify/suite) judges answers by these: every response an
operation declares (its status key, its media types, each with the JSON Schema 2020-12 a
body must pass in the response direction, and the headers it names), and the request
bodies the contract itself gives as examples. They are read here, beside the model,
because only contract/ and model/ read the raw document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backsmith.model.schemas import JsonSchemaConverter, deref
from backsmith.model.types import Model, Operation


@dataclass(frozen=True, slots=True)
class DeclaredResponse:
    """One entry of an operation's `responses`."""

    status: str  # as declared: "201", "2XX" or "default"
    media: Mapping[str, Mapping[str, Any] | None]  # media type -> its body's JSON Schema
    headers: frozenset[str] = frozenset()  # declared response headers, lower case

    def covers(self, status: int) -> bool:
        key = self.status.upper()
        ranged = len(key) == 3 and key.endswith("XX") and key[0] == str(status)[0]
        return key == str(status) or ranged


@dataclass(frozen=True, slots=True)
class Expectations:
    """An operation's declared responses and the request bodies its contract shows."""

    responses: tuple[DeclaredResponse, ...] = ()
    examples: tuple[Any, ...] = ()

    def response_for(self, status: int) -> DeclaredResponse | None:
        """The declaration an answer of `status` is held to: the exact code, its range, or
        `default`; None when none covers it."""
        exact = [r for r in self.responses if r.status == str(status)]
        ranged = [r for r in self.responses if r.covers(status) and r.status != str(status)]
        fallback = [r for r in self.responses if r.status == "default"]
        found = [*exact, *ranged, *fallback]
        return found[0] if found else None

    @property
    def success(self) -> tuple[str, ...]:
        """The declared 2xx statuses (`2XX` included)."""
        return tuple(r.status for r in self.responses if r.status[:1] == "2")


def expectations(model: Model) -> dict[str, Expectations]:
    """By operationId, what each operation of `model` declares."""
    document = model.document
    response_schemas = JsonSchemaConverter(document, model.openapi_version, "response")
    found = {}
    for op in model.operations:
        declared = _operation(document, op)
        responses = declared.get("responses") if isinstance(declared, dict) else None
        found[op.operation_id] = Expectations(
            responses=tuple(
                _response(document, response_schemas, str(status), answer)
                for status, answer in (responses or {}).items()
            ),
            examples=_examples(document, declared.get("requestBody")),
        )
    return found


def _operation(document: dict[str, Any], op: Operation) -> dict[str, Any]:
    item = deref(document, (document.get("paths") or {}).get(op.path)) or {}
    found = item.get(op.method.lower()) if isinstance(item, dict) else None
    return found if isinstance(found, dict) else {}


def _response(
    document: dict[str, Any], converter: JsonSchemaConverter, status: str, answer: Any
) -> DeclaredResponse:
    answer = deref(document, answer)
    if not isinstance(answer, dict):
        return DeclaredResponse(status, {})
    media: dict[str, Mapping[str, Any] | None] = {}
    for name, entry in (answer.get("content") or {}).items():
        schema = entry.get("schema") if isinstance(entry, dict) else None
        media[str(name).lower()] = converter.root(schema) if schema is not None else None
    headers = frozenset(str(name).lower() for name in answer.get("headers") or {})
    return DeclaredResponse(status, media, headers)


def _examples(document: dict[str, Any], body: Any) -> tuple[Any, ...]:
    """The request body's examples: the media types' own, then their schemas'."""
    body = deref(document, body)
    if not isinstance(body, dict):
        return ()
    found: list[Any] = []
    for entry in (body.get("content") or {}).values():
        if not isinstance(entry, dict):
            continue
        if "example" in entry:
            found.append(entry["example"])
        for example in (entry.get("examples") or {}).values():
            example = deref(document, example)
            if isinstance(example, dict) and "value" in example:
                found.append(example["value"])
        schema = deref(document, entry.get("schema"))
        if isinstance(schema, dict):
            if "example" in schema:
                found.append(schema["example"])
            listed = schema.get("examples")
            found.extend(listed if isinstance(listed, list) else [])
    return tuple(found)
