"""Where `$id` and `$anchor` point inside one OpenAPI 3.1 document (JSON Schema 2020-12).

A schema with `$id` is a resource of its own: other schemas may name it by that URI
(`$ref: https://example.com/schemas/book`), and references inside it resolve against
it (`$ref: author` next to `$id: https://example.com/schemas/book` names
`https://example.com/schemas/author`). `$anchor` names a schema inside its resource
(`$ref: "#book"`). A document is indexed once, so that each such reference becomes the
plain JSON pointer everything downstream follows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin

from backsmith.contract.source import escape

# Schema keywords whose values are schemas, maps of schemas, or lists of schemas.
SCHEMA_VALUE_KEYS = frozenset(
    {"schema", "items", "additionalProperties", "not", "contains", "propertyNames", "if", "then"}
    | {"else", "unevaluatedItems", "unevaluatedProperties", "contentSchema"}
)
SCHEMA_MAP_KEYS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
SCHEMA_LIST_KEYS = frozenset({"allOf", "oneOf", "anyOf", "prefixItems"})
# Keys of the document whose values are data, never schemas: their `$id`s are not ones.
_DATA_KEYS = frozenset({"example", "examples", "default", "const", "enum"})
# The keys a bundled document no longer needs once every reference is a JSON pointer: a
# `$id` left in would make those pointers resolve against it.
IDENTIFYING_KEYS = ("$id", "$anchor")


@dataclass(slots=True)
class Identifiers:
    """One document's schema resources (`$id`) and anchors, by URI."""

    root: str  # the document's own URI
    resources: dict[str, str] = field(default_factory=dict)  # URI -> JSON pointer
    anchors: dict[tuple[str, str], str] = field(default_factory=dict)  # (URI, name) -> pointer
    bases: dict[str, str] = field(default_factory=dict)  # pointer of a `$id` schema -> URI
    identified: set[str] = field(default_factory=set)  # pointers of schemas with `$id`/`$anchor`

    def base_at(self, pointer: str) -> str:
        """The URI references at `pointer` resolve against: the nearest enclosing `$id`."""
        probe = pointer
        while True:
            if probe in self.bases:
                return self.bases[probe]
            if not probe:
                return self.root
            probe = probe.rsplit("/", 1)[0]

    def resolve(self, ref: str, pointer: str, exists: Callable[[str], bool]) -> str | None:
        """The JSON pointer `ref` (at `pointer`) names through a `$id` or an `$anchor`;
        None when it names neither, and the plain rules apply (a pointer into the document,
        another file)."""
        if not self.resources and not self.anchors:
            return None
        base = self.base_at(pointer)
        uri, fragment = urldefrag(urljoin(base, ref))
        start = "" if uri == self.root else self.resources.get(uri)
        if start is None:
            return None
        if fragment and not fragment.startswith("/"):
            return self.anchors.get((uri, fragment))
        if uri == self.root:
            return None  # a plain pointer into the document
        if not fragment:
            return start
        # A pointer inside a resource; many documents mean the document's root by it
        # (`#/components/schemas/Tag` inside a schema with `$id`): that reading is kept
        # where the resource has no such place.
        return start + fragment if exists(start + fragment) else None


def index_identifiers(data: Any, uri: str) -> Identifiers:
    """Every `$id` and `$anchor` of the schemas in an OpenAPI document."""
    found = Identifiers(uri)
    _document(found, data, "")
    return found


def _document(found: Identifiers, node: Any, pointer: str) -> None:
    if isinstance(node, list):
        for index, item in enumerate(node):
            _document(found, item, f"{pointer}/{index}")
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key.startswith("x-") or key in _DATA_KEYS:
            continue
        child = f"{pointer}/{escape(key)}"
        if key == "schema":
            _schema(found, value, child, found.root)
        elif key == "schemas" and pointer == "/components" and isinstance(value, dict):
            for name, schema in value.items():
                _schema(found, schema, f"{child}/{escape(str(name))}", found.root)
        else:
            _document(found, value, child)


def _schema(found: Identifiers, node: Any, pointer: str, base: str) -> None:
    if not isinstance(node, dict):
        return
    if isinstance(node.get("$id"), str):
        base = urldefrag(urljoin(base, node["$id"]))[0]
        found.resources.setdefault(base, pointer)
        found.bases[pointer] = base
        found.identified.add(pointer)
    if isinstance(node.get("$anchor"), str):
        found.anchors.setdefault((base, node["$anchor"]), pointer)
        found.identified.add(pointer)
    for key, value in node.items():
        child = f"{pointer}/{escape(key)}"
        if key in SCHEMA_MAP_KEYS and isinstance(value, dict):
            for name, schema in value.items():
                _schema(found, schema, f"{child}/{escape(str(name))}", base)
        elif key in SCHEMA_LIST_KEYS or (key == "items" and isinstance(value, list)):
            for index, schema in enumerate(value if isinstance(value, list) else ()):
                _schema(found, schema, f"{child}/{index}", base)
        elif key in SCHEMA_VALUE_KEYS:
            _schema(found, value, child, base)
