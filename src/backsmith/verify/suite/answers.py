"""Whether an answer is what the contract declares: its status, media type and body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backsmith.http.validation import SchemaValidator
from backsmith.model.expectations import Expectations
from backsmith.verify.suite.client import Answer

# Compiled once, by the id of the schema they compile (kept beside, so the id stays its own).
_validators: dict[int, tuple[Mapping[str, Any], SchemaValidator]] = {}


def nonconformity(expected: Expectations, answer: Answer) -> str:
    """Why `answer` breaks the declared response for its status; "" when it conforms."""
    declared = expected.response_for(answer.status)
    if declared is None:
        listed = ", ".join(r.status for r in expected.responses) or "none"
        return f"status {answer.status} is not declared (declared: {listed})"
    if not declared.media:
        return ""  # no content declared: nothing more to hold the answer to
    if not answer.content and answer.status in (204, 304):
        return ""
    media = _declared_media(declared.media, answer.media_type)
    if media is None:
        listed = ", ".join(declared.media)
        return f"content type {answer.media_type or 'none'!r} is not declared ({listed})"
    schema = declared.media[media]
    if schema is None or "json" not in media:
        return ""
    body = answer.json()
    if body is None and answer.content:
        return f"the body is not JSON, though {media} is declared"
    errors = _validator(schema).errors(body)
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"body at {first['pointer']}: {first['detail']}{more}"
    return ""


def _declared_media(declared: Mapping[str, Any], found: str) -> str | None:
    """The declared media type `found` answers to: by its type and subtype, parameters
    (`;charset=utf-8`) aside, and `application/*` or `*/*`."""
    bare = {name.split(";")[0].strip(): name for name in declared}
    kind = found.split("/")[0]
    for name in (found, f"{kind}/*", "*/*"):
        if name in bare:
            return bare[name]
    return None


def _validator(schema: Mapping[str, Any]) -> SchemaValidator:
    found = _validators.get(id(schema))
    if found is None or found[0] is not schema:
        found = (schema, SchemaValidator(dict(schema)))
        _validators[id(schema)] = found
    return found[1]
