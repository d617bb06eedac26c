"""Request bodies: the media they come in, and the ones no request can satisfy.

Form bodies (`application/x-www-form-urlencoded`, `multipart/form-data`) of plain fields
are read like a JSON object's properties; a form with a file needs a handler of its own,
as does a write whose body is a string or an array rather than an object with fields.

A body whose schema requires `key` while declaring only `blob_key` refuses every request:
the validator asks for `key`, and the body check refuses it as not a property of the
request. Such a schema is a contract error, pointed at its `required`, unless the object
lets undeclared properties in (`additionalProperties`, or `unknown-fields: ignore` on a
write's body). Properties declared in `allOf` parts and `oneOf`/`anyOf` branches count.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backsmith.contract.load import Contract
from backsmith.contract.source import escape
from backsmith.errors import Issue
from backsmith.model.envelopes import json_content
from backsmith.model.schemas import branch_properties, deref, flatten, schema_types
from backsmith.model.types import Kind, Operation

_WRITES = frozenset({Kind.CREATE, Kind.REPLACE, Kind.UPDATE})
_MAX_DEPTH = 32
# Form bodies whose fields are read like a JSON object's properties (files are not taken).
FORM_MEDIA = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def request_body(document: dict[str, Any], op: dict[str, Any]) -> tuple[tuple[str, ...], Any, bool]:
    """The media types a body may come in (JSON, and form fields read like JSON), its
    schema (the JSON one, else the form's) and whether it is required."""
    body = deref(document, op.get("requestBody"))
    if not isinstance(body, dict):
        return (), None, False
    content = body.get("content") or {}
    media = tuple(m for m in content if m.split(";")[0].strip().endswith("json"))
    _, schema = json_content(content)
    forms = [m for m in content if form_fields(document, content, m) is not None]
    if forms:
        media += tuple(forms)
        if schema is None:
            schema = form_fields(document, content, forms[0])
    return media, schema, bool(body.get("required"))


def unsatisfiable_bodies(contract: Contract, operations: list[Operation]) -> list[Issue]:
    """One error per `required` list naming properties its object never declares."""
    document = contract.document
    found: dict[str, list[str]] = {}
    for op in operations:
        body = _body_schema(document, op)
        if body is None:
            continue
        schema, pointer = body
        # The item a write's body binds to refuses properties it does not name.
        item = op.body_wrapper if op.kind in _WRITES and not op.ignore_unknown_fields else None
        closed_top = op.kind in _WRITES and not op.ignore_unknown_fields and not op.body_wrapper
        walker = _Walker(document, found)
        walker.walk(schema, pointer, closed_top, item, 0)
    return [
        contract.issue(
            f"{_names(missing)} {'is' if len(missing) == 1 else 'are'} required but not declared "
            "under properties, so no request can satisfy this schema: declare "
            f"{'it' if len(missing) == 1 else 'them'}, take {'it' if len(missing) == 1 else 'them'}"
            " out of required, or allow undeclared properties (additionalProperties)",
            pointer,
        )
        for pointer, missing in found.items()
    ]


def _names(missing: list[str]) -> str:
    return ", ".join(f"'{name}'" for name in missing)


def _body_schema(document: dict[str, Any], op: Operation) -> tuple[Any, str] | None:
    """The body schema the operation validates, and where it is declared."""
    if op.body_schema is None:
        return None
    body = _follow(document, (document.get("paths") or {}).get(op.path, {}), "")[0]
    raw = (body.get(op.method.lower()) or {}).get("requestBody") if isinstance(body, dict) else None
    request, at = _follow(document, raw, f"{op.pointer}/requestBody")
    content = request.get("content") if isinstance(request, dict) else None
    for media, declared in (content or {}).items():
        if isinstance(declared, dict) and declared.get("schema") is op.body_schema:
            return op.body_schema, f"{at}/content/{escape(media)}/schema"
    return None


def _follow(document: dict[str, Any], node: Any, pointer: str) -> tuple[Any, str]:
    """`node` with local `$ref`s followed, and the pointer of where it really is."""
    for _ in range(_MAX_DEPTH):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return node, pointer
        target: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        node, pointer = target, ref[1:]
    return node, pointer


class _Walker:
    def __init__(self, document: dict[str, Any], found: dict[str, list[str]]) -> None:
        self.document = document
        self.found = found
        self.seen: set[tuple[str, bool]] = set()

    def walk(self, schema: Any, pointer: str, closed: bool, item: str | None, depth: int) -> None:
        """Check the object at `schema` (closed: undeclared properties are refused)."""
        node, pointer = _follow(self.document, schema, pointer)
        if not isinstance(node, dict) or depth > _MAX_DEPTH or (pointer, closed) in self.seen:
            return
        self.seen.add((pointer, closed))
        flat = flatten(self.document, node)
        declared = branch_properties(self.document, node)
        allowed = flat.get("additionalProperties")
        shut = allowed is False or (closed and allowed is None)
        if shut and (declared or "object" in schema_types(flat)):
            for where, required in self._requirers(node, pointer, 0):
                missing = [r for r in required if isinstance(r, str) and r not in declared]
                if missing:
                    listed = self.found.setdefault(where, [])
                    listed.extend(m for m in missing if m not in listed)
        for name, prop in (flat.get("properties") or {}).items():
            at = f"{pointer}/properties/{escape(name)}"
            self.walk(prop, at, name == item, None, depth + 1)
        items = flat.get("items")
        if isinstance(items, dict):
            self.walk(items, f"{pointer}/items", False, None, depth + 1)

    def _requirers(self, node: Any, pointer: str, depth: int) -> Iterator[tuple[str, list[Any]]]:
        """Each `required` list of the object and its allOf parts, with where it is."""
        node, pointer = _follow(self.document, node, pointer)
        if not isinstance(node, dict) or depth > _MAX_DEPTH:
            return
        if isinstance(node.get("required"), list):
            yield f"{pointer}/required", node["required"]
        for index, part in enumerate(node.get("allOf") or ()):
            yield from self._requirers(part, f"{pointer}/allOf/{index}", depth + 1)


def form_fields(document: dict[str, Any], content: dict[str, Any], media: str) -> Any:
    """The schema of a form body of fields (no files), read like a JSON object; else None."""
    if media.split(";")[0].strip().lower() not in FORM_MEDIA:
        return None
    declared = content[media] if isinstance(content[media], dict) else {}
    schema = declared.get("schema")
    flat = flatten(document, schema)
    properties = flat.get("properties")
    if not isinstance(properties, dict) or not properties:
        return None
    for prop in properties.values():  # a file needs a handler of its own
        found = flatten(document, prop)
        item = flatten(document, found.get("items")) if "array" in schema_types(found) else found
        if item.get("format") in ("binary", "base64") or "contentMediaType" in item:
            return None
    return schema


def not_an_object(document: dict[str, Any], schema: Any) -> str | None:
    """`a string` for a body schema that can only be a scalar or an array: no row's fields."""
    flat = flatten(document, schema)
    types = schema_types(flat)
    if not types or "object" in types or flat.get("properties"):
        return None
    named = sorted(types - {"null"}) or sorted(types)
    return " or ".join(f"an {t}" if t[0] in "aeiou" else f"a {t}" for t in named)
