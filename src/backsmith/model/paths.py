"""Path conventions: which resource a path segment names, which column a parameter addresses."""

from __future__ import annotations

from backsmith.model.naming import names_match, singular, snake
from backsmith.model.types import Resource


def segment_names(segment: str, resource: Resource, parent: str) -> bool:
    """Whether a static path segment (under `parent`) names `resource`."""
    if segment.startswith("{"):
        return False
    candidates = [resource.name, resource.table, resource.schema or ""]
    if any(c and names_match(segment, c) for c in candidates):
        return True
    joined = f"{singular(snake(parent))}_{snake(segment)}" if parent else ""
    return bool(joined) and any(c and names_match(joined, c) for c in candidates)


def resource_of_segment(resources: dict[str, Resource], segment: str) -> Resource | None:
    """The one resource a segment names, if exactly one does."""
    found = [r for r in resources.values() if segment_names(segment, r, "")]
    return found[0] if len(found) == 1 else None


def address_column(resource: Resource, name: str) -> str:
    """The column a path parameter addresses rows by: `{slug}`, `{bookId}`, `{id}`."""
    field = resource.field(name)
    if field is None:
        stem = snake(name)
        prefix = f"{singular(resource.table)}_"
        if stem.startswith(prefix):
            field = resource.field(stem.removeprefix(prefix))
    if field is not None and not field.hidden:
        return field.column
    return resource.key.column


def key_column(resource: Resource, name: str) -> str | None:
    """The column an item path's last parameter addresses: the key or a unique column."""
    field = resource.field(name)
    if field is None or field.hidden:
        field = resource.field(address_column(resource, name))
    assert field is not None
    if field.primary_key or field.unique or resource.source == "schema":
        return field.column
    if any(index.unique and index.columns == (field.column,) for index in resource.indexes):
        return field.column
    return None
