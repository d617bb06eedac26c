"""Where an answer carries URLs the server makes, and how each one is written.

A list's envelope may link to its next, previous and current page (`links.next`,
`next_url`, `links.self`); an item may carry its own address (`links.self`, a `url` that
nothing is stored in). Each such property becomes a `UrlSlot`. A property whose format is
`uri` (or `url`, `iri`) is answered with an absolute URL; `uri-reference`, or no format,
keeps the path the request used. A link with no target (the last page has no next one) is
null where the schema allows null, and left out where it does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from backsmith.model.naming import paging_name, snake
from backsmith.model.places import key_place, place_keys
from backsmith.model.schemas import flatten, is_nullable, schema_types

if TYPE_CHECKING:  # types.py names UrlSlot in SuccessAnswer
    from backsmith.model.types import Envelope, Resource

ABSOLUTE_FORMATS = frozenset({"uri", "url", "iri"})
_LINK_FORMATS = ABSOLUTE_FORMATS | {"uri-reference", "iri-reference"}
# Objects that group an answer's links: {"links": {"self": ...}}, HAL's {"_links": ...}.
_LINK_GROUPS = frozenset({"links", "_links", "link"})
# Names that are a URL whatever their format; bare `next`, `prev` may be tokens, so those
# count only with a link format.
_NAMED = {
    "next": frozenset({"next_url", "next_link", "next_href", "next_page_url", "next_page_link"}),
    "prev": frozenset(
        {
            "prev_url",
            "prev_link",
            "prev_href",
            "prev_page_url",
            "previous_url",
            "previous_link",
            "previous_href",
            "previous_page_url",
        }
    ),
}
_BARE = {"next": frozenset({"next"}), "prev": frozenset({"prev", "previous"})}
_SELF = frozenset({"self", "self_url", "self_link", "self_href"})
# An item's own address: `self` anywhere, `url` and `href` where nothing else fills them.
_ITEM = _SELF | {"url", "href"}


class UrlRole(StrEnum):
    NEXT = "next"  # the list's next page
    PREV = "prev"  # its previous page
    PAGE = "page"  # the page answered, as asked for
    ITEM = "item"  # the item's own address (the read operation's path)


@dataclass(frozen=True, slots=True)
class UrlSlot:
    """A property the server fills with a URL."""

    place: str  # dotted key: in the list's body for page roles, in the item for ITEM
    role: UrlRole
    absolute: bool = False  # scheme and host too, as `format: uri` asks
    nullable: bool = False  # null when there is no such page; else the property is left out
    href: bool = False  # the property is an object holding the URL as `href` (HAL)


def url_slots(
    document: dict[str, Any],
    answer: Any,
    item: Any,
    envelope: Envelope,
    resource: Resource,
    is_list: bool,
) -> tuple[UrlSlot, ...]:
    """The URL properties of a success answer: the page links of a list's envelope, and
    the item's own address in the item schema (each item's, in a list)."""
    slots: list[UrlSlot] = []
    if is_list and envelope.items is not None:
        slots.extend(_page_slots(document, answer, envelope))
    if item is not None:
        slots.extend(_item_slots(document, item, resource))
    return tuple(slots)


def _page_slots(document: dict[str, Any], answer: Any, envelope: Envelope) -> Iterator[UrlSlot]:
    top = place_keys(envelope.items)[0] if envelope.items else ""
    seen = False
    for place, name, raw in _walk(document, answer, top, depth=2):
        prop = flatten(document, raw)
        role = None
        if place == envelope.next:
            role, seen = UrlRole.NEXT, True
        elif name in _SELF:
            role = UrlRole.PAGE
        else:
            for found in (UrlRole.NEXT, UrlRole.PREV):
                if name in _NAMED[found] or (name in _BARE[found] and _is_link(prop)):
                    role = found
        slot = _slot(document, place, role, raw) if role is not None else None
        if slot is not None:
            yield slot
    if envelope.next and not seen:  # declared in x-backsmith where the schema says nothing
        yield UrlSlot(envelope.next, UrlRole.NEXT, nullable=True)


def _item_slots(document: dict[str, Any], item: Any, resource: Resource) -> Iterator[UrlSlot]:
    for place, name, raw in _walk(document, item, "", depth=1, groups_only=True):
        grouped = "." in place
        if name not in (_SELF if grouped else _ITEM) or _stored(resource, place):
            continue
        slot = _slot(document, place, UrlRole.ITEM, raw)
        if slot is not None:
            yield slot


def _walk(
    document: dict[str, Any], schema: Any, skip: str, depth: int, groups_only: bool = False
) -> Iterator[tuple[str, str, Any]]:
    """(place, snake name, schema) of an object's properties and of the objects inside it,
    `depth` levels down (`meta.pagination.next`); only into link groups with `groups_only`
    (an embedded author's `self` is the author's, not the item's)."""
    properties = flatten(document, schema).get("properties") or {}
    for key, value in properties.items():
        if key == skip:
            continue
        yield key_place(key), paging_name(key), value
        if depth < 1 or _has_href(document, value):
            continue
        if groups_only and snake(key) not in _LINK_GROUPS:
            continue
        for place, name, prop in _walk(document, value, "", depth - 1, groups_only):
            yield f"{key_place(key)}.{place}", name, prop


def _slot(document: dict[str, Any], place: str, role: UrlRole, raw: Any) -> UrlSlot | None:
    prop = flatten(document, raw)
    href = _has_href(document, raw)
    target = flatten(document, prop["properties"]["href"]) if href else prop
    types = schema_types(target)
    if types and "string" not in types:
        return None
    absolute = target.get("format") in ABSOLUTE_FORMATS
    return UrlSlot(place, role, absolute, is_nullable(prop), href)


def _has_href(document: dict[str, Any], raw: Any) -> bool:
    properties = flatten(document, raw).get("properties") or {}
    return "href" in properties and len(properties) <= 3  # {href, title, templated}


def _is_link(prop: dict[str, Any]) -> bool:
    return prop.get("format") in _LINK_FORMATS


def _stored(resource: Resource, place: str) -> bool:
    """Whether the property has a source of its own: a column the client or server writes."""
    if "." in place:
        return False
    field = resource.field(place)
    return field is not None and (not field.read_only or field.generated is not None)
