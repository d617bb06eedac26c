"""Fixed members beside an answer's row or rows, and the value each is answered with.

Success envelopes (`{"success": true, "data": {...}}`) and write answers that wrap the
row's key (`{"resource": {"id": 7}, "status": 201}`) carry scalars that say how the call
went. Each is answered from its schema: its `const`, its only `enum` value, its `default`,
its example, or true for a flag; an integer status or code with no fixed value is the HTTP
status the operation answers, whatever its example says.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backsmith.model.naming import snake
from backsmith.model.schemas import schema_types
from backsmith.model.types import Envelope

STATUS_CODES = frozenset({"status", "status_code", "code", "http_status", "http_code"})
# Scalars beside the rows that say how the call went: {"success": true, "message": "..."}.
STATUS_NAMES = STATUS_CODES | {"success", "ok", "message", "msg"}
SCALARS = frozenset({"string", "integer", "number", "boolean"})
NO_VALUE: Any = object()  # the schema gives the member no value: it is left out


class _AnsweredStatus:
    """Stands for the operation's HTTP status until the operation's status is known."""

    def __repr__(self) -> str:
        return "<the answered status>"


ANSWERED_STATUS: Any = _AnsweredStatus()


def is_fixed(schema: dict[str, Any]) -> bool:
    """Whether the schema pins one value (`const`, a one-value `enum`)."""
    enum = schema.get("enum")
    return "const" in schema or (isinstance(enum, list) and len(enum) == 1)


def fixed_value(name: str, schema: dict[str, Any]) -> Any:
    """What the member `name` (flattened `schema`) is answered with; NO_VALUE for none."""
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and len(enum) == 1:
        return enum[0]
    types = schema_types(schema) - {"null"}
    if not types or not types <= SCALARS:
        return NO_VALUE
    if "integer" in types and snake(name) in STATUS_CODES:
        return ANSWERED_STATUS  # the example says 200 for every write; the answer says 201
    for key in ("default", "example"):
        if key in schema:
            return schema[key]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    if types == {"boolean"}:
        return True  # `success`: an answer that is sent at all went well
    return NO_VALUE


def with_status(envelope: Envelope, status: int) -> Envelope:
    """The envelope with the operation's status in the members that carry it."""
    if not any(value is ANSWERED_STATUS for _, value in envelope.constants):
        return envelope
    constants = tuple(
        (key, status if value is ANSWERED_STATUS else value) for key, value in envelope.constants
    )
    return replace(envelope, constants=constants)
