"""Response shapes: how a schema carries rows (one item, a bare array, an envelope, a wrapper)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from backsmith.model.fixed_members import NO_VALUE, SCALARS, STATUS_NAMES, fixed_value, is_fixed
from backsmith.model.naming import names_match, paging_name, snake, strip_affixes
from backsmith.model.places import key_place, place_keys
from backsmith.model.schemas import component_name, deref, flatten, is_nullable, schema_types
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
# Keys that hold the one row of a success envelope whatever the row is: {"data": {...}}.
DATA_NAMES = frozenset({"data", "result", "item", "payload", "record", "object", "entity"})


# What a list envelope may carry beside its rows, besides ENVELOPE_NAMES: links to pages,
# page numbers, and what the list is (Google's `kind`/`etag`, Stripe's `object: "list"`,
# OData's `@odata.context`), and objects that group paging facts or links.
_LIST_SCALARS = frozenset(
    {
        "kind", "etag", "object", "context", "url", "self", "next_link", "next_url",
        "next_page_url", "prev_link", "previous_link", "prev_url", "previous_url",
        "has_previous", "has_prev", "next_page_number", "previous_page_number",
        "prev_page_number", "total_pages", "page_count", "last_page", "next_page",
        "previous_page", "prev_page", "next_page_token", "previous_page_token",
    }
)  # fmt: skip
_LIST_GROUPS = frozenset({"meta", "links", "_links", "pagination", "paging", "page_info"})
_PAGE_MOVES = (
    ENVELOPE_NAMES["cursor"]
    | ENVELOPE_NAMES["has_more"]
    | {"next_link", "next_url", "next_page_url", "next_page_number", "next_page_token"}
)


def list_envelope(document: dict[str, Any], schema: Any) -> str | None:
    """The rows' key of a schema that is nothing but a page of rows: exactly one array of
    objects, beside only paging, count and link members (`{value: [...], "@odata.nextLink"}`,
    `{apiVersions: [...], nextPageToken}`, `{podcasts: [...], has_next, total}`). Beside a
    member that moves to another page (`has_next`, a cursor, a next link), other scalars may
    stand too (`{id, name, podcasts: [...], has_next}`: a genre's page of podcasts); a row
    with a list of children and a `total` is still a row. Such a schema is never a table's
    row, whatever its name."""
    properties = flatten(document, schema).get("properties") or {}
    moves = {paging_name(k) for k in properties} & _PAGE_MOVES
    rows = []
    for key, value in properties.items():
        member = flatten(document, value)
        types = schema_types(member)
        name = paging_name(key)
        if "array" in types:
            items = flatten(document, member.get("items"))
            if items.get("properties") or "object" in schema_types(items):
                rows.append(key)
                continue
        if name in _LIST_GROUPS and not types - {"object", "null"}:
            continue
        paging = any(name in names for names in ENVELOPE_NAMES.values())
        if not (paging or name in _LIST_SCALARS or moves) or types - (SCALARS | {"null"}):
            return None
    return rows[0] if len(rows) == 1 else None


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


def json_answer(document: dict[str, Any], responses: Any) -> tuple[int | None, str | None, Any]:
    """(status, media type, schema) of an operation's first 2xx answer in JSON; where none
    is JSON, the first 2xx status (if a number) with no media type and no schema."""
    success = sorted(str(code) for code in (responses or {}) if str(code).startswith("2"))
    for status in success:
        response = deref(document, responses[status])
        media, schema = json_content(
            response.get("content") if isinstance(response, dict) else None
        )
        if media is not None:
            return int(status), media, schema
    return (int(success[0]) if success and success[0].isdigit() else None), None, None


@dataclass
class ResponseShape:
    """What a response schema was found to be: its item schema and where the rows go."""

    item_schema: Any
    envelope: Envelope
    is_list: bool
    schema_name: str | None
    # The items are plain values of one column: "" by convention, else as declared
    # (`x-backsmith: {embed: genres.name}` on the array); None for rows as objects.
    plain: str | None = None


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
            plain = "" if self._scalar(items) else None
            return ResponseShape(items, Envelope(), True, component_name(items), plain)
        properties = flat.get("properties", {})
        arrays = {
            key: flatten(self.document, value).get("items")
            for key, value in properties.items()
            if "array" in schema_types(flatten(self.document, value))
        }
        objects = [k for k, v in arrays.items() if "object" in self._object_types(v)]
        items_key = next(
            (k for k, v in arrays.items() if component_name(v) in self.schema_resources), None
        )
        if len(objects) > 1:  # {genres: [...], podcasts: [...]}: several lists, not a page
            items_key = None
        if items_key is None and len(arrays) == 1:
            candidate = next(iter(arrays))
            if "object" in schema_types(flatten(self.document, arrays[candidate])):
                items_key = candidate
        if items_key is None:  # {badges: [...], badge_types: [...]}: the table's rows
            named = [k for k in arrays if self._table_named(k) and self._objects(arrays[k])]
            items_key = named[0] if len(named) == 1 else None
        if items_key is None and not arrays:
            nested = self._nested_items(properties)
            if nested is not None:
                items_key, inner = nested
                outer = place_keys(items_key)[0]
                meta = self._envelope_parts(properties, outer)
                used = {outer, *(place_keys(v)[0] for v in meta.values() if v)}
                constants, _ = self.constants(properties, used)
                envelope = Envelope(items=items_key, constants=constants, **meta)
                return ResponseShape(inner, envelope, True, component_name(inner))
        if items_key is not None:
            meta = self._envelope_parts(properties, items_key)
            used = {items_key, *(place_keys(v)[0] for v in meta.values() if v)}
            constants, _ = self.constants(properties, used)
            optional = self._optional(flat, meta["cursor"])
            envelope = Envelope(
                items=key_place(items_key), constants=constants, optional=optional, **meta
            )
            inner = arrays[items_key]
            return ResponseShape(inner, envelope, True, component_name(inner))
        values = self._plain_values(properties, arrays)
        if values is not None:
            key, declared = values
            meta = self._envelope_parts(properties, key)
            used = {key, *(place_keys(v)[0] for v in meta.values() if v)}
            constants, _ = self.constants(properties, used)
            envelope = Envelope(items=key_place(key), constants=constants, **meta)
            return ResponseShape(arrays[key], envelope, True, None, declared)
        return self._item_shape_of(schema, name)

    def _objects(self, items: Any) -> bool:
        return "object" in schema_types(flatten(self.document, items))

    def _nested_items(self, properties: dict[str, Any]) -> tuple[str, Any] | None:
        """`{_embedded: {legs: [...]}}`, `{category_list: {categories: [...]}}`: the one
        object holding one array of objects (or one array named after a table)."""
        found: list[tuple[str, Any]] = []
        for key, value in properties.items():
            inner = flatten(self.document, value).get("properties") or {}
            arrays = {
                k: flatten(self.document, v).get("items")
                for k, v in inner.items()
                if "array" in schema_types(flatten(self.document, v))
                and self._objects(flatten(self.document, v).get("items"))
            }
            named = [k for k in arrays if self._table_named(k)]
            chosen = named if len(named) == 1 else list(arrays) if len(arrays) == 1 else []
            found.extend((f"{key_place(key)}.{key_place(k)}", arrays[k]) for k in chosen)
        return found[0] if len(found) == 1 else None

    def _plain_values(
        self, properties: dict[str, Any], arrays: dict[str, Any]
    ) -> tuple[str, str] | None:
        """The key of `{"genres": ["fantasy", "sea"]}`: the one array of plain values whose
        name is a table's, or which declares what it holds (`embed: genres.name`)."""
        found = []
        for key, items in arrays.items():
            if not self._scalar(items):
                continue
            ext = properties[key].get("x-backsmith") if isinstance(properties[key], dict) else None
            declared = ext.get("embed") if isinstance(ext, dict) else None
            if isinstance(declared, str):
                found.append((key, declared))
            elif self._table_named(key):
                found.append((key, ""))
        return found[0] if len(found) == 1 else None

    def _object_types(self, schema: Any) -> set[str]:
        flat = flatten(self.document, schema)
        return schema_types(flat) | ({"object"} if flat.get("properties") else set())

    def _scalar(self, schema: Any) -> bool:
        types = schema_types(flatten(self.document, schema))
        return bool(types) and types - {"null"} <= SCALARS

    def declared_shape(self, schema: Any, declared: Any, found: ResponseShape) -> ResponseShape:
        """The shape `x-backsmith: {envelope: ...}` declares, over the one conventions found."""
        envelope = self._declared_envelope(declared, found.envelope, found.is_list)
        place = envelope.items or envelope.wrapper
        if place is None:
            return ResponseShape(schema, envelope, found.is_list, component_name(schema))
        current = flatten(self.document, schema)
        for part in place_keys(place):
            current = flatten(self.document, (current.get("properties") or {}).get(part, {}))
        is_list = envelope.items is not None
        inner = current.get("items", {}) if is_list else current
        return ResponseShape(inner, envelope, is_list, component_name(inner))

    def unwrap_body(self, body: Any) -> tuple[str | None, Any]:
        """`{"book": {...}}` bodies: the wrapper key and the schema of what it wraps."""
        if body is None:
            return None, None
        wrapped = None if component_name(body) in self.schema_resources else self._wrapped(body)
        return wrapped[:2] if wrapped is not None else (None, body)

    def _item_shape_of(self, schema: Any, name: str | None) -> ResponseShape:
        wrapped = self._wrapped(schema)
        if wrapped is not None:
            key, inner, constants = wrapped
            envelope = Envelope(wrapper=key, constants=constants)
            return ResponseShape(inner, envelope, False, component_name(inner))
        return ResponseShape(schema, Envelope(), False, name)

    def _wrapped(self, schema: Any) -> tuple[str, Any, tuple[tuple[str, Any], ...]] | None:
        """(key, inner schema, constants) of an object wrapping one row: `{"book": {...}}`,
        `{"data": {...}}`, `{"success": true, "data": {...}}`.

        The inner schema is a resource's (or its `BookCreate` variant's), or an inline object
        under a key that names a table or is a generic one (`data`, `result`...). Beside a
        generic key, scalars that say how the call went (`success`, `message`, a `const`)
        may stand; they are answered from the schema. Used for responses and request bodies.
        """
        properties = flatten(self.document, schema).get("properties") or {}
        objects = [
            (key, inner)
            for key, inner in properties.items()
            if not self._scalar(inner)
            and "array" not in schema_types(flatten(self.document, inner))
        ]
        # {group: {...}, extras: {...}}: the one object named after a table, beside others
        # that are no row's columns (objects and arrays only, no scalar)
        beside = len(objects) > 1 and not any(self._scalar(v) for v in properties.values())
        if beside:
            objects = [(k, v) for k, v in objects if self._table_named(k)]
        if len(objects) != 1:
            return None
        key, inner = objects[0]
        constants, only_fixed = self.constants(properties, {key})
        if len(properties) > 1 and not (only_fixed and snake(key) in DATA_NAMES) and not beside:
            return None
        name = component_name(inner)
        if name is not None and (
            name in self.schema_resources or strip_affixes(name) in self.schema_resources
        ):
            return key, inner, constants
        titled = key[:1].upper() + key[1:]
        named = (
            titled in self.schema_resources or self._table_named(key) or snake(key) in DATA_NAMES
        )
        if flatten(self.document, inner).get("properties") and named:
            return key, inner, constants
        return None

    def constants(
        self, properties: dict[str, Any], used: set[str]
    ) -> tuple[tuple[tuple[str, Any], ...], bool]:
        """The fixed members beside an envelope's rows, each with the value it is answered
        with, and whether every other member is one (or a status scalar such as `message`).

        Only a fixed value or a status name makes a member fixed: an envelope's other scalars
        may be the row's own columns (a `title` beside an `author` object)."""
        found = []
        only_fixed = True
        for key, value in properties.items():
            if key in used:
                continue
            schema = flatten(self.document, value)
            status = snake(key) in STATUS_NAMES and self._scalar(schema)
            if not (status or is_fixed(schema)):
                only_fixed = False
                continue
            constant = fixed_value(key, schema)
            if constant is not NO_VALUE:
                found.append((key, constant))
        return tuple(found), only_fixed

    def _table_named(self, name: str) -> str | None:
        return next((r.table for r in self.resources.values() if names_match(name, r.table)), None)

    def _envelope_parts(self, properties: dict[str, Any], items_key: str) -> dict[str, Any]:
        """Where the cursor, total, page... go: top-level keys or inside a `meta` object."""
        found: dict[str, Any] = dict.fromkeys([*ENVELOPE_NAMES, "next"])
        places: list[tuple[str, dict[str, Any]]] = [("", properties)]
        for key, value in properties.items():
            nested = flatten(self.document, value)
            if key != items_key and nested.get("properties"):
                places.append((f"{key_place(key)}.", nested["properties"]))
                for inner, inner_value in nested["properties"].items():
                    deeper = flatten(self.document, inner_value).get("properties")
                    if deeper:  # meta.pagination.next_cursor
                        places.append((f"{key_place(key)}.{key_place(inner)}.", deeper))
        for role, names in ENVELOPE_NAMES.items():
            for prefix, props in places:
                hit = next((k for k in props if paging_name(k) in names and k != items_key), None)
                if hit is not None:
                    found[role] = prefix + key_place(hit)
                    fmt = flatten(self.document, props[hit]).get("format")
                    if role == "cursor" and fmt in _LINK_FORMATS:  # DRF's `next`, HAL-ish links
                        found["next"], found["cursor"] = found["cursor"], None
                    break
        if found["total"] is None:
            counted = f"{snake(items_key)}_count"
            total = next((k for k in properties if snake(k) == counted), None)
            found["total"] = key_place(total) if total is not None else None
        return found

    def _optional(self, flat: dict[str, Any], cursor: str | None) -> tuple[str, ...]:
        """The cursor's place where the schema neither allows null there nor requires it:
        the last page leaves it out (`nextPageToken`), as a link without a target is."""
        if cursor is None or "." in cursor:
            return ()
        key = place_keys(cursor)[0]
        member = flatten(self.document, (flat.get("properties") or {}).get(key))
        if is_nullable(member) or key in (flat.get("required") or ()):
            return ()
        return (cursor,)

    def _declared_envelope(self, declared: Any, envelope: Envelope, is_list: bool) -> Envelope:
        constants = envelope.constants
        if isinstance(declared, str):
            if is_list:
                return Envelope(items=declared, constants=constants)
            return Envelope(wrapper=declared, constants=constants)
        if isinstance(declared, dict):
            parts: dict[str, Any] = {k: v for k, v in declared.items() if isinstance(v, str)}
            return replace(Envelope(**parts), constants=constants)
        return envelope
