"""Compare what an operation takes and answers: its request body and its responses.

Responses are compared by status; the bodies of success statuses schema by schema, per
media type, and their headers by name (a header a client reads that stops coming breaks
it). Error responses are only counted in or out: what a client reads from an error is not
a contract it builds on.
"""

from __future__ import annotations

from typing import Any

from backsmith.verify.diff.changes import Recorder
from backsmith.verify.diff.resolve import Node, deref
from backsmith.verify.diff.schemas import SchemaComparison

Documents = tuple[dict[str, Any], dict[str, Any]]
_TYPE = "content-type"


def compare_request_body(record: Recorder, documents: Documents, old: Node, new: Node) -> None:
    """Changes to the request body of one operation (`old` and `new` are the operations)."""
    before = deref(documents[0], old.child("requestBody"))
    after = deref(documents[1], new.child("requestBody"))
    if not isinstance(before.value, dict) and not isinstance(after.value, dict):
        return
    if not isinstance(after.value, dict):
        record.old_side("request-body-removed", "the request body was removed", before.pointer)
        return
    now = after.value.get("required") is True
    if not isinstance(before.value, dict):
        rule = "request-body-added-required" if now else "request-body-added-optional"
        kind = "required" if now else "optional"
        record.new_side(rule, f"a {kind} request body was added", after.pointer)
        return
    if (before.value.get("required") is True) != now:
        rule = "request-body-became-required" if now else "request-body-became-optional"
        said = "required" if now else "optional"
        record.new_side(rule, f"the request body became {said}", after.child("required").pointer)
    _media_types(record, documents, before, after, "request")


def compare_responses(record: Recorder, documents: Documents, old: Node, new: Node) -> None:
    """Changes to the responses of one operation."""
    both = record.pair_up(
        old.child("responses").entries(),
        new.child("responses").entries(),
        lambda status, _: (
            f"response-{_kind(status)}-status-removed",
            f"the {status} response was removed",
        ),
        lambda status, _: (
            f"response-{_kind(status)}-status-added",
            f"a {status} response was added",
        ),
    )
    for status, before, after in both:
        if _kind(status) == "success":
            old_response, new_response = deref(documents[0], before), deref(documents[1], after)
            _media_types(record, documents, old_response, new_response, status)
            _headers(record, documents, old_response, new_response, status)


def _headers(
    record: Recorder, documents: Documents, before: Node, after: Node, status: str
) -> None:
    """Headers the response no longer carries, or no longer always carries. Names are
    compared case-blind, and `Content-Type` is not a header here (OpenAPI ignores it)."""

    def named(response: Node) -> dict[str, Node]:
        found = response.child("headers").entries()
        return {name.lower(): node for name, node in found.items() if name.lower() != _TYPE}

    added = named(after)
    for name, old_node in named(before).items():
        was = deref(documents[0], old_node).value
        required = isinstance(was, dict) and was.get("required") is True
        new_node = added.get(name)
        if new_node is None:
            kind = "required" if required else "optional"
            said = f"the {status} response no longer carries the {name} header"
            record.old_side(f"{kind}-response-header-removed", said, old_node.pointer)
            continue
        now = deref(documents[1], new_node).value
        if required and not (isinstance(now, dict) and now.get("required") is True):
            said = f"the {status} response may now leave out the {name} header"
            record.new_side("response-header-became-optional", said, new_node.pointer)


def _kind(status: str) -> str:
    return "success" if status.upper().startswith("2") else "non-success"


def _media_types(
    record: Recorder, documents: Documents, before: Node, after: Node, status: str
) -> None:
    """Media types in and out, and the schema of each one both have."""
    request = status == "request"
    prefix = "request-body" if request else "response"
    what = "the request body" if request else f"the {status} response"
    both = record.pair_up(
        before.child("content").entries(),
        after.child("content").entries(),
        lambda media_type, _: (
            f"{prefix}-media-type-removed",
            f"{what} no longer comes as {media_type}",
        ),
        lambda media_type, _: (
            f"{prefix}-media-type-added",
            f"{what} may now come as {media_type}",
        ),
    )
    for media_type, old_type, new_type in both:
        old_schema, new_schema = old_type.child("schema"), new_type.child("schema")
        if old_schema.value is None or new_schema.value is None:
            continue
        where = f"{what} ({media_type})" if request else f"{what} body ({media_type})"
        comparison = SchemaComparison(record, *documents, request=request, where=where)
        comparison.compare(old_schema, new_schema, f"{'request' if request else 'response'}-body")
