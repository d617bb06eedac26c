"""Why an operation that works on no resource needs a handler, and what else would serve it.

An operation whose schemas and path match no table answers 501 until it has a handler. Its
reason names the habit of the contract that kept it from a table (an action, a file, a
singleton, an inline schema...) and, where one would do, the declaration that serves it
from a table instead. `check`, `model` and the 501 put "needs a handler" before it. Each
reason starts with its cause's words, so `cause_of` reads the cause back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from backsmith.model.envelopes import json_answer, json_content
from backsmith.model.paths import is_item_of, is_item_path, path_segments
from backsmith.model.schemas import component_name, deref, flatten, schema_types
from backsmith.model.types import Resource


class Cause(StrEnum):
    """The habits that keep an operation from a table (a batch is told apart before the
    others are tried, in this order)."""

    FILE = "files or text, not JSON"
    PLAIN = "answers a plain value"
    ACTION = "an action on a row or a custom method"
    BATCH = "several rows at once"
    NO_SCHEMA = "no schema in or out"
    INLINE = "inline schemas, no component to name a table"
    INLINE_LONE = "inline objects off a collection/item pair"
    ENVELOPE = "a list envelope not recognised"
    VIEW = "a view of a resource's columns"
    NAMED_UNLIKE = "schema name differs from its path"
    SINGLETON = "a singleton, not a collection"
    OTHER = "other"


# The words each cause's reasons start with (no one a prefix of another's).
_OPENINGS: dict[Cause, tuple[str, ...]] = {
    Cause.FILE: ("answers a file or text",),
    Cause.PLAIN: ("answers a plain value",),
    Cause.ACTION: ("an action on a row", "an action, not", "a custom method"),
    Cause.BATCH: ("answers several", "takes several", "answers an array of pages"),
    Cause.NO_SCHEMA: ("declares no JSON schema",),
    Cause.INLINE: ("its schemas are inline",),
    Cause.INLINE_LONE: ("an inline object on a path",),
    Cause.ENVELOPE: ("a list inside an envelope",),
    Cause.VIEW: ("a view of the columns of",),
    Cause.NAMED_UNLIKE: ("its schema ",),
    Cause.SINGLETON: ("one object, not a collection",),
    Cause.OTHER: ("its schemas and path name no table",),
}
_DECLARE = "declare x-backsmith {resource: <table>}"
_UNLESS = "unless x-backsmith {resource: <table>} names it"
_SINGLETON = f"one object, not a collection (a singleton), {_UNLESS}"

# Last path segments that are verbs, not collections (`/docs/search`, `/health/ready`).
_ACTION_WORDS = frozenset(
    {
        "search", "login", "logout", "revoke", "clear", "test", "link", "unlink", "watch",
        "authorize", "batch", "import", "export", "reset", "refresh", "cancel", "heartbeat",
        "health", "metrics", "ready", "verify", "send", "invite", "rollback",
    }
)  # fmt: skip
_VERB_PREFIX = re.compile(r"^(get|is|set|has|do|check)[A-Z]")
_SCALARS = frozenset({"string", "number", "integer", "boolean"})


def cause_of(reason: str) -> Cause | None:
    """The cause a reason given by `why_custom` names; None for any other reason."""
    for cause, openings in _OPENINGS.items():
        if reason.startswith(openings):
            return cause
    return None


def why_custom(
    document: dict[str, Any],
    resources: Iterable[Resource],
    path: str,
    method: str,
    op: dict[str, Any],
    body: Any,
) -> str:
    """One line: why an operation matching no table needs a handler, and the declaration
    that would serve it from a table instead where there is one."""
    method = method.upper()
    segments = path_segments(path)  # `/posts/{id}.json` is judged as `/posts/{id}`
    statics = [s for s in segments if "{" not in s]
    last = segments[-1] if segments else ""
    response = success_schema(document, op)
    if response is None and body is None and answers_other_media(document, op):
        return "answers a file or text, not JSON"
    flat = flatten(document, response) if response is not None else {}
    types = schema_types(flat)
    items = flatten(document, flat.get("items")) if "array" in types else {}
    if (types & _SCALARS and not flat.get("properties")) or (schema_types(items) & _SCALARS):
        return "answers a plain value, not rows"
    action = _action(method, segments)
    if action is not None:
        return action
    if not response and not body:  # none, or `schema: {}`: any JSON at all
        return f"declares no JSON schema in or out and nothing beside it names a table, {_UNLESS}"
    listed = _listed_property(document, flat)
    if method == "GET" and "{" not in last and flat and "array" not in types and not listed:
        return _SINGLETON  # GET /me, /store/inventory, /v1/taxes/settings: one object
    schema = response if response is not None else body
    item = flat.get("items") if "array" in types else schema
    if component_name(item) is None and component_name(schema) is None:
        if _in_pair(document, segments):
            return f"its schemas are inline and no table is served from them, {_UNLESS}"
        return (
            "an inline object on a path that is no collection/item pair (a lone list, a "
            f"part of a row), {_UNLESS}"
        )
    if listed and method == "GET" and "{" not in last:
        return (
            f"a list inside an envelope it does not read ({listed}): "
            f"declare x-backsmith {{envelope: {{items: {listed}}}}}"
        )
    members = set(flatten(document, item).get("properties") or {})
    for resource in resources:
        columns = {f.name for f in resource.fields} | {f.column for f in resource.fields}
        if len(members) >= 2 and members <= columns:
            return (
                f"a view of the columns of {resource.table}: "
                f"declare x-backsmith {{resource: {resource.name}}}"
            )
    name = component_name(item) or component_name(schema)
    if statics and (last.startswith("{") or method in ("GET", "POST")) and len(segments) > 1:
        return (
            f"its schema {name} is named unlike its path ({statics[-1]}): "
            "declare x-backsmith {table: <table>} on the schema"
        )
    if "{" not in last:
        return _SINGLETON
    return f"its schemas and path name no table: {_DECLARE}"


def _in_pair(document: dict[str, Any], segments: list[str]) -> bool:
    """Whether a path is the collection or the item path of a pair: /users and /users/{id}."""
    bare = [path_segments(str(path)) for path in document.get("paths") or {}]
    if is_item_path(segments):
        return segments[:-1] in bare and len(segments) > 1 and "{" not in segments[-2]
    return any(is_item_of(other, segments) for other in bare)


def custom_method(segments: list[str]) -> str | None:
    """`a custom method (:rollback)` where the last segment ends in a Google-style verb
    (`{spec}:rollback`, `jobs:batchGet`): no CRUD on the rows the path names, else None."""
    last = segments[-1] if segments else ""
    after = last.rsplit("}", 1)[-1]
    return f"a custom method (:{after.split(':')[-1]})" if ":" in after else None


def _action(method: str, segments: list[str]) -> str | None:
    """`an action on a row (revoke)` where the path ends in a verb, else None."""
    method_reason = custom_method(segments)
    if method_reason is not None:
        return method_reason
    last = segments[-1] if segments else ""
    word = after = last
    after_item = len(segments) > 1 and segments[-2].startswith("{") and "{" not in last
    plural = word.endswith("s") and not word.endswith("ss")  # a nested collection
    if after_item and not plural and method != "GET":
        return f"an action on a row ({word})"
    if word.lower() in _ACTION_WORDS or _VERB_PREFIX.match(after):
        return f"an action, not CRUD ({word})"
    return None


def _listed_property(document: dict[str, Any], flat: dict[str, Any], depth: int = 0) -> str:
    """Where an object answer holds an array of objects (`value`, `_embedded.items`), or ""."""
    for name, prop in (flat.get("properties") or {}).items():
        member = flatten(document, prop)
        if "array" in schema_types(member):
            if flatten(document, member.get("items")).get("properties"):
                return str(name)
        elif depth < 1 and member.get("properties"):
            inner = _listed_property(document, member, depth + 1)
            if inner:
                return f"{name}.{inner}"
    return ""


def success_schema(document: dict[str, Any], op: dict[str, Any]) -> Any:
    """The schema of the first 2xx answer in JSON, or None (also for JSON of no schema)."""
    return json_answer(document, op.get("responses"))[2] or None


def answers_other_media(document: dict[str, Any], op: dict[str, Any]) -> bool:
    """Whether some 2xx answer declares content, none of it JSON (a file, a page, text)."""
    contents = [r.get("content") for _, r in _successes(document, op)]
    declared = [c for c in contents if isinstance(c, dict) and c]
    return bool(declared) and all(json_content(c)[0] is None for c in declared)


def _successes(document: dict[str, Any], op: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for status, response in sorted((op.get("responses") or {}).items()):
        response = deref(document, response)
        if str(status).startswith("2") and isinstance(response, dict):
            found.append((str(status), response))
    return found
