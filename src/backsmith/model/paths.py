"""Path conventions: which resource a path segment names, which column a parameter addresses."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from backsmith.model.naming import KEY_WORDS, names_match, singular, snake
from backsmith.model.segments import Match, segment_match
from backsmith.model.types import Field, FieldType, Resource

# `/posts.json`, `/posts/{id}.json`: the suffix names the media type answered, not another
# resource, so the segment names what it would without it.
_FORMAT_SUFFIX = re.compile(r"\.(json|xml)$")


def without_format(segment: str) -> str:
    """`posts.json` -> `posts`, `{id}.json` -> `{id}`; other segments as they are."""
    return _FORMAT_SUFFIX.sub("", segment)


def path_segments(path: str) -> list[str]:
    """A path template's segments, each without its format suffix."""
    return [without_format(s) for s in path.strip("/").split("/") if s]


def bare_path(path: str) -> str:
    """`/posts/{id}.json` -> `/posts/{id}`: the path a suffixed one serves as."""
    return "/" + "/".join(path_segments(path))


def is_item_path(segments: list[str]) -> bool:
    """Whether a path's (bare) segments end in a parameter: `/posts/{id}`."""
    return bool(segments) and segments[-1].startswith("{")


def is_item_of(segments: list[str], collection: list[str]) -> bool:
    """Whether `segments` are the collection's item path: `/vehicles/{vehicleId}`."""
    return (
        len(segments) == len(collection) + 1
        and segments[:-1] == collection
        and is_item_path(segments)
    )


def segment_match_of(segment: str, resource: Resource, parent: str, param: str = "") -> Match:
    """How a static path segment (under `parent`, before the item parameter `param`) names
    `resource`: by its name, table or schema, alone or joined to the parent (exact), or, for
    a table inferred from its schema, by the loose conventions of segments.py."""
    candidates = [resource.name, resource.table, resource.schema or ""]
    if any(segment_match(segment, parent, "", c) == Match.EXACT for c in candidates if c):
        return Match.EXACT
    if resource.source != "schema" or not resource.schema:
        return Match.NONE  # a DBML table is named by its own name
    return segment_match(segment, parent, param, resource.schema)


def segment_names(segment: str, resource: Resource, parent: str, param: str = "") -> bool:
    """Whether a static path segment (under `parent`) names `resource`."""
    return segment_match_of(segment, resource, parent, param) != Match.NONE


def named_resource(
    resources: Iterable[Resource], segment: str, parent: str = "", param: str = ""
) -> Resource | None:
    """The resource a segment names: the first it names exactly, else the only one it
    names loosely (two loose candidates name neither)."""
    loose = []
    for resource in resources:
        found = segment_match_of(segment, resource, parent, param)
        if found == Match.EXACT:
            return resource
        if found == Match.LOOSE:
            loose.append(resource)
    return loose[0] if len(loose) == 1 else None


def resource_of_segment(resources: dict[str, Resource], segment: str) -> Resource | None:
    """The one resource a segment names, if exactly one does (exactly, else loosely)."""
    found = [r for r in resources.values() if segment_match_of(segment, r, "") == Match.EXACT]
    if found:
        return found[0] if len(found) == 1 else None
    return named_resource(resources.values(), segment)


def _visible(field: Field | None) -> Field | None:
    return field if field is not None and not field.hidden else None


def _names_resource(stem: str, resource: Resource, segment: str) -> bool:
    """Whether `stem` (`book`, `spot_set`, `set`) names the resource or its path segment."""
    names = [resource.name, resource.table, resource.schema or ""]
    if segment and not segment.startswith("{"):
        names.append(segment)
    return any(n and names_match(stem, n) for n in names)


def _key_fits(key: Field, schema: dict[str, Any] | None) -> bool:
    """Whether a parameter declared with `schema` can hold the values of `key`.

    Only a made-up key (one the contract never shows) is held to this: a string parameter
    (`/changelogs/{slug}`) never addresses it, since no client could learn its integers.
    """
    if not key.hidden or not schema:
        return True
    declared = schema.get("type")
    types = set(declared) if isinstance(declared, list) else {declared} if declared else set()
    return not types or key.type != FieldType.INTEGER or bool(types & {"integer", "number"})


def addressed_column(
    resource: Resource, name: str, segment: str = "", schema: dict[str, Any] | None = None
) -> str | None:
    """The column a path parameter `name` addresses rows of `resource` by, or None.

    In order: a property or column of that name (`slug`, `createdAt` ~ `created_at`); the
    name less the resource's own prefix (`bookSlug` -> `slug`, `petId` -> `id`); an
    identifier word (`{id}`, `{uuid}`, `{orderId}`, `{project}` under /projects) -> the
    key. Where the key is made up (the schema has none), a string parameter never
    addresses it, and `{versionId}` names the resource's own `version` property instead.
    `segment` is the static segment naming the collection (`sets` in
    `/spots/{id}/sets/{setId}`). None when nothing answers: the contract must say.
    """
    field = _visible(resource.field(name))
    if field is not None:
        return field.column
    stem = snake(name)
    for owner in (resource.table, resource.name, resource.schema or "", segment):
        prefix = f"{singular(snake(owner))}_" if owner and not owner.startswith("{") else ""
        if prefix and stem.startswith(prefix):
            field = _visible(resource.field(stem.removeprefix(prefix)))
            if field is not None:
                return field.column
    key = resource.key
    naming = _names_resource(stem, resource, segment)  # /projects/{project}
    if naming or stem in KEY_WORDS or stem.endswith("id"):  # {id}, {petId}, {pid}
        if not key.hidden:
            return key.column
        own = None
        if stem.endswith("_id") and _names_resource(stem[:-3], resource, segment):
            own = _visible(resource.field(stem[:-3]))
        if own is not None and own.type in (FieldType.STRING, FieldType.ENUM, FieldType.UUID):
            return own.column
        return key.column if _key_fits(key, schema) else None
    return None


def address_column(resource: Resource, name: str) -> str:
    """The column a path parameter addresses rows by: `{slug}`, `{bookId}`, `{id}`; the key
    when its name says nothing more."""
    return addressed_column(resource, name) or resource.key.column


def key_column(
    resource: Resource, name: str, segment: str = "", schema: dict[str, Any] | None = None
) -> str | None:
    """The column an item path's last parameter addresses: the key or a unique column."""
    column = addressed_column(resource, name, segment, schema)
    field = resource.field(column) if column is not None else None
    if field is None:
        return None
    if field.primary_key or field.unique or resource.source == "schema":
        return field.column
    if any(index.unique and index.columns == (field.column,) for index in resource.indexes):
        return field.column
    return None
