"""Which CRUD kind one operation is, the status it answers and the order its list defaults to."""

from __future__ import annotations

from typing import Any

from backsmith.model.envelopes import ResponseShape
from backsmith.model.paths import segment_names
from backsmith.model.schemas import flatten, schema_types
from backsmith.model.types import Envelope, Generated, Kind, Resource

# What each method does on an item path (`/books/{id}`).
ITEM_KINDS = {"get": Kind.READ, "put": Kind.REPLACE, "patch": Kind.UPDATE, "delete": Kind.DELETE}


def kind_of(
    document: dict[str, Any],
    schema_resources: dict[str, str],
    ext: dict[str, Any],
    method: str,
    is_item: bool,
    shape: ResponseShape | None,
    resource: Resource,
    segments: list[str],
    body: Any,
    listed: bool = False,
) -> Kind | str:
    """The kind of a method on a path over `resource`, or why it is none (served custom);
    `listed`: the item path's collection path lists `resource`."""
    if ext.get("kind"):
        return Kind(ext["kind"])
    statics = [s for s in segments if not s.startswith("{")]
    named_segment = segments[-2] if is_item and len(segments) > 1 else (statics or [""])[-1]
    parent = statics[-2] if len(statics) > 1 else ""
    param = segments[-1] if is_item else ""
    names_resource = segment_names(named_segment, resource, parent, param)
    # An item path answering a view of the resource (`/profiles/{handle}` answering
    # PublicCustomer, a part of customers) names its rows through the view.
    view = shape is not None and is_view(schema_resources, shape.schema_name, resource)
    names_resource = names_resource or (is_item and view)
    # `/curated_podcasts/{id}` beside a `/curated_podcasts` that lists CuratedList rows.
    names_resource = names_resource or (is_item and listed)
    if method == "get" and not is_item:
        if shape is not None and shape.is_list:
            return Kind.LIST
        return "GET on a collection path that does not return a list"
    if not names_resource:
        return f"'{'/'.join(segments)}' is not a collection or item path of {resource.name}"
    if not is_item:
        if method == "post":
            if "array" in schema_types(flatten(document, body)):
                return "creates several items at once"
            return Kind.CREATE
        if method in ("put", "patch") and resource.key.name in flatten(document, body).get(
            "properties", {}
        ):
            return Kind.REPLACE if method == "put" else Kind.UPDATE
        return f"{method.upper()} on a collection path"
    return ITEM_KINDS.get(method, "POST on an item path")


def is_view(schema_resources: dict[str, str], schema: str | None, resource: Resource) -> bool:
    """Whether `schema` is served from `resource`'s table without describing it."""
    return (
        schema is not None
        and schema_resources.get(schema) == resource.table
        and resource.schema != schema
    )


def status_of(kind: Kind, success: list[str], declared: int | None) -> int:
    """The status a CRUD operation answers, among the success statuses it declares."""
    codes = {int(s) for s in success if s.isdigit()}
    if kind == Kind.CREATE:
        return 201 if 201 in codes or not codes else (declared or min(codes))
    if kind == Kind.DELETE:
        return 204 if 204 in codes or not codes else min(codes)
    return 200 if 200 in codes or not codes else (declared or min(codes))


def default_sort(ext: dict[str, Any], resource: Resource, envelope: Envelope) -> tuple[str, ...]:
    """A list's order when the caller asks for none: declared, else newest first, else by key."""
    declared = ext.get("sort")
    if isinstance(declared, str):
        return tuple(s.strip() for s in declared.split(",") if s.strip())
    if isinstance(declared, list):
        return tuple(str(s) for s in declared)
    if envelope.values is not None:  # plain values read best in their own order
        field = resource.field(envelope.values)
        if field is not None and not field.primary_key:
            return (field.column, *resource.primary_key)
    created = next((f for f in resource.fields if f.generated == Generated.CREATED), None)
    key = [f"-{c}" if created else c for c in resource.primary_key]
    return (f"-{created.column}", *key) if created else tuple(key)
