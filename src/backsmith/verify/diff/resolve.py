"""Read a contract's parts for comparing: `$ref`s followed, `allOf` merged, each part
with the JSON pointer where it is written.

Following local references the way the model reads schemas means that moving a schema
into `components` (or out of it) is no change; pointers follow the reference, so a change
inside a shared schema points at the line a person edits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from backsmith.contract.refs import resolve_pointer
from backsmith.contract.source import escape

_MAX_DEPTH = 32
# Words for people, not for clients: a change to them changes nothing a client does.
_PROSE = frozenset({"description", "title", "summary", "example", "examples", "externalDocs"})
# Keywords whose members are names a contract chose, not keywords.
_NAMED = frozenset({"properties", "patternProperties", "$defs", "definitions"})


@dataclass(frozen=True, slots=True)
class Node:
    """A part of a contract and the pointer where it is written."""

    value: Any
    pointer: str

    def child(self, *keys: str) -> Node:
        """The part under `keys`, or a Node of None when it is absent."""
        value, pointer = self.value, self.pointer
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
            pointer = f"{pointer}/{escape(key)}"
        return Node(value, pointer)

    def entries(self) -> dict[str, Node]:
        """A mapping's members, each with its pointer (none for anything else)."""
        if not isinstance(self.value, dict):
            return {}
        return {str(key): self.child(str(key)) for key in self.value}


def deref(document: dict[str, Any], node: Node) -> Node:
    """Follow local `$ref`s to the part they name (an unresolvable one reads as empty)."""
    for _ in range(_MAX_DEPTH):
        ref = node.value.get("$ref") if isinstance(node.value, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#"):
            return node
        try:
            node = Node(resolve_pointer(document, ref[1:]), ref[1:])
        except KeyError:
            return Node({}, node.pointer)
    return node


@dataclass(slots=True)
class Flat:
    """One schema with its `allOf` parts merged: keywords (the first part's win), every
    property with its pointer, and the required names."""

    pointer: str
    keywords: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Node] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)

    def get(self, keyword: str) -> Any:
        return self.keywords.get(keyword)

    def pointer_of(self, keyword: str) -> str:
        """Where `keyword` is written, or the schema itself when it is not."""
        return f"{self.pointer}/{keyword}" if keyword in self.keywords else self.pointer


def flatten(document: dict[str, Any], node: Node) -> Flat:
    """The schema at `node`, references followed and `allOf` parts merged."""
    node = deref(document, node)
    flat = Flat(node.pointer)
    _merge(document, node, flat, 0)
    return flat


def _merge(document: dict[str, Any], node: Node, flat: Flat, depth: int) -> None:
    schema = node.value
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return
    for key, value in schema.items():
        if key not in ("allOf", "properties", "required", "$ref"):
            flat.keywords.setdefault(key, value)
    for name, prop in node.child("properties").entries().items():
        flat.properties.setdefault(name, prop)
    required = schema.get("required")
    if isinstance(required, list):
        flat.required.update(name for name in required if isinstance(name, str))
    parts = schema.get("allOf")
    for index in range(len(parts) if isinstance(parts, list) else 0):
        _merge(document, deref(document, node.child("allOf", str(index))), flat, depth + 1)


def canonical(document: dict[str, Any], value: Any) -> str:
    """A schema as text, references inlined and prose left out: equal when clients see
    the same schema, wherever each was written."""
    return json.dumps(_inline(document, value, ()), sort_keys=True, default=str)


def _inline(document: dict[str, Any], value: Any, seen: tuple[str, ...]) -> Any:
    if isinstance(value, list):
        return [_inline(document, item, seen) for item in value]
    if not isinstance(value, dict):
        return value
    ref = value.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        if ref in seen or len(seen) > _MAX_DEPTH:
            return {"$recursive": ref.rsplit("/", 1)[-1]}  # the name, so a cycle compares
        target = deref(document, Node(value, ""))
        return _inline(document, target.value, (*seen, ref))
    return {
        key: _named(document, item, seen) if key in _NAMED else _inline(document, item, seen)
        for key, item in value.items()
        if key not in _PROSE and not key.startswith("x-")
    }


def _named(document: dict[str, Any], value: Any, seen: tuple[str, ...]) -> Any:
    """A map of names to schemas (`properties`): every name is kept, even `title`."""
    if not isinstance(value, dict):
        return _inline(document, value, seen)
    return {name: _inline(document, item, seen) for name, item in value.items()}
