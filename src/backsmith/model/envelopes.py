"""Response shapes: how a schema carries rows (one item, a bare array, an envelope, a wrapper)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backsmith.model.naming import names_match, snake, strip_affixes
from backsmith.model.schemas import component_name, flatten, schema_types
from backsmith.model.types import Envelope, Resource

ENVELOPE_NAMES: dict[str, frozenset[str]] = {
    "cursor": frozenset(
        {"next_cursor", "cursor", "next", "next_page_token", "continuation_token", "end_cursor"}
    ),
    "total": frozenset({"total", "count", "total_count", "total_items", "total_results"}),
    "limit": frozenset({"limit", "per_page", "page_size"}),
    "page": frozenset({"page", "page_number", "current_page"}),
    "offset": frozenset({"offset", "skip"}),
    "has_more": frozenset({"has_more", "has_next", "more"}),
}
_LINK_FORMATS = frozenset({"uri", "uri-reference", "url", "iri", "iri-reference"})


def json_content(content: Any) -> tuple[str | None, Any]:
    """The JSON media type of a `content` map and its schema, preferring application/json."""
    if not isinstance(content, dict):
        return None, None
    media_types = [m for m in content if m.split(";")[0].strip().endswith("json")]
    if not media_types:
        return None, None
    media = "application/json" if "application/json" in media_types else media_types[0]
    body = content[media] if isinstance(content[media], dict) else {}
    return media, body.get("schema", {})


@dataclass
class ResponseShape:
    """What a response schema was found to be: its item schema and where the rows go."""

    item_schema: Any
    envelope: Envelope
    is_list: bool
    schema_name: str | None


class EnvelopeReader:
    """Finds items, wrappers and paging parts in response and request schemas."""

    def __init__(
        self,
        document: dict[str, Any],
        resources: dict[str, Resource],
        schema_resources: dict[str, str],
    ) -> None:
        self.document = document
        self.resources = resources
        self.schema_resources = schema_resources

    def shape_of(self, schema: Any, item: bool = False) -> ResponseShape:
        """How a response schema carries rows: one item, a bare array, an envelope, a wrapper.

        With `item`, the response is known to be one row, so an object holding an array is
        that row with embedded children, not a list envelope.
        """
        name = component_name(schema)
        if name in self.schema_resources:
            return ResponseShape(schema, Envelope(), False, name)
        if item:
            return self._item_shape_of(schema, name)
        flat = flatten(self.document, schema)
        types = schema_types(flat)
        if "array" in types:
            items = flat.get("items", {})
            return ResponseShape(items, Envelope(), True, component_name(items))
        properties = flat.get("properties", {})
        arrays = {
            key: flatten(self.document, value).get("items")
            for key, value in properties.items()
            if "array" in schema_types(flatten(self.document, value))
        }
        items_key = next(
            (k for k, v in arrays.items() if component_name(v) in self.schema_resources), None
        )
        if items_key is None and len(arrays) == 1:
            candidate = next(iter(arrays))
            if "object" in schema_types(flatten(self.document, arrays[candidate])):
                items_key = candidate
        if items_key is not None:
            meta = self._envelope_parts(properties, items_key)
            envelope = Envelope(items=items_key, **meta)
            inner = arrays[items_key]
            return ResponseShape(inner, envelope, True, component_name(inner))
        return self._item_shape_of(schema, name)

    def declared_shape(self, schema: Any, declared: Any, found: ResponseShape) -> ResponseShape:
        """The shape `x-backsmith: {envelope: ...}` declares, over the one conventions found."""
        envelope = self._declared_envelope(declared, found.envelope, found.is_list)
        place = envelope.items or envelope.wrapper
        if place is None:
            return ResponseShape(schema, envelope, found.is_list, component_name(schema))
        current = flatten(self.document, schema)
        for part in place.split("."):
            current = flatten(self.document, (current.get("properties") or {}).get(part, {}))
        is_list = envelope.items is not None
        inner = current.get("items", {}) if is_list else current
        return ResponseShape(inner, envelope, is_list, component_name(inner))

    def unwrap_body(self, body: Any) -> tuple[str | None, Any]:
        """`{"book": {...}}` bodies: the wrapper key and the schema of what it wraps."""
        if body is None:
            return None, None
        wrapped = None if component_name(body) in self.schema_resources else self._wrapped(body)
        return wrapped if wrapped is not None else (None, body)

    def _item_shape_of(self, schema: Any, name: str | None) -> ResponseShape:
        wrapped = self._wrapped(schema)
        if wrapped is not None:
            key, inner = wrapped
            return ResponseShape(inner, Envelope(wrapper=key), False, component_name(inner))
        return ResponseShape(schema, Envelope(), False, name)

    def _wrapped(self, schema: Any) -> tuple[str, Any] | None:
        """(key, inner schema) of a one-property object wrapping one row: `{"book": {...}}`.

        The inner schema is a resource's (or its `BookCreate` variant's), or an inline object
        under a key that names a table. Used for responses and request bodies alike.
        """
        properties = flatten(self.document, schema).get("properties") or {}
        if len(properties) != 1:
            return None
        key, inner = next(iter(properties.items()))
        name = component_name(inner)
        if name is not None and (
            name in self.schema_resources or strip_affixes(name) in self.schema_resources
        ):
            return key, inner
        titled = key[:1].upper() + key[1:]
        named = titled in self.schema_resources or self._table_named(key)
        if flatten(self.document, inner).get("properties") and named:
            return key, inner
        return None

    def _table_named(self, name: str) -> str | None:
        return next((r.table for r in self.resources.values() if names_match(name, r.table)), None)

    def _envelope_parts(self, properties: dict[str, Any], items_key: str) -> dict[str, Any]:
        """Where the cursor, total, page... go: top-level keys or inside a `meta` object."""
        found: dict[str, Any] = dict.fromkeys([*ENVELOPE_NAMES, "next"])
        places: list[tuple[str, dict[str, Any]]] = [("", properties)]
        for key, value in properties.items():
            nested = flatten(self.document, value)
            if key != items_key and nested.get("properties"):
                places.append((f"{key}.", nested["properties"]))
                for inner, inner_value in nested["properties"].items():
                    deeper = flatten(self.document, inner_value).get("properties")
                    if deeper:  # meta.pagination.next_cursor
                        places.append((f"{key}.{inner}.", deeper))
        for role, names in ENVELOPE_NAMES.items():
            for prefix, props in places:
                hit = next((k for k in props if snake(k) in names and k != items_key), None)
                if hit is not None:
                    found[role] = prefix + hit
                    fmt = flatten(self.document, props[hit]).get("format")
                    if role == "cursor" and fmt in _LINK_FORMATS:  # DRF's `next`, HAL-ish links
                        found["next"], found["cursor"] = found["cursor"], None
                    break
        if found["total"] is None:
            counted = f"{snake(items_key)}_count"
            found["total"] = next((k for k in properties if snake(k) == counted), None)
        return found

    def _declared_envelope(self, declared: Any, envelope: Envelope, is_list: bool) -> Envelope:
        if isinstance(declared, str):
            return Envelope(items=declared) if is_list else Envelope(wrapper=declared)
        if isinstance(declared, dict):
            parts: dict[str, Any] = {k: v for k, v in declared.items() if isinstance(v, str)}
            return Envelope(**parts)
        return envelope
