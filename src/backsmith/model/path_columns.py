"""Columns a contract's paths imply on tables inferred from its schemas (no DBML).

A schema rarely repeats what its path already says. `/{id}/events` under the stories at
`/{id}` says every event belongs to a story, though `Event` has no `story_id`; and
`/changelogs/{slug}` says a changelog has a slug, though `Changelog` only has a `title`.
A table inferred from the schema gets those columns: a hidden reference to the parent,
and a unique slug made from the title on create; and a column an item path addresses
rows by (`/versions/{version}`) is unique, as a key is. With DBML the tables are as declared,
and such paths need a declaration instead (see path_params.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backsmith.model.naming import singular, snake
from backsmith.model.operations import OperationMapper
from backsmith.model.parameters import read_params
from backsmith.model.paths import addressed_column, path_segments, resource_of_segment
from backsmith.model.relations import RelationGraph
from backsmith.model.types import Field, FieldType, Generated, Relation, Resource

CRUD_METHODS = ("get", "post", "put", "patch", "delete")
# Properties a slug is made from, in order of preference.
SLUG_SOURCES = ("title", "name")


def with_path_columns(
    document: dict[str, Any], resources: dict[str, Resource], schema_resources: dict[str, str]
) -> dict[str, Resource]:
    """`resources` with the parent references and slugs their paths imply."""
    mapper = OperationMapper(document, resources, schema_resources)
    graph = RelationGraph(resources)
    slugs: dict[str, Field] = {}
    keys: dict[str, set[str]] = {}  # columns item paths address rows by: unique
    parents: dict[str, dict[str, Resource]] = {}
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        segments = path_segments(path)
        for method in CRUD_METHODS:
            op = item.get(method)
            resource = mapper.resource_of(path, method, item, op) if isinstance(op, dict) else None
            if resource is None or resource.source != "schema":
                continue
            assert isinstance(op, dict)
            schemas = {p.name: p.schema for p in read_params(document, item, op)}
            places = [i for i, s in enumerate(segments) if s.startswith("{")]
            if places and places[-1] == len(segments) - 1:  # an item path: its key
                name = segments[-1][1:-1]
                segment = segments[-2] if len(segments) > 1 else ""
                column = addressed_column(resource, name, segment, schemas.get(name))
                if column is not None:
                    keys.setdefault(resource.table, set()).add(column)
                slug = _slug(resource, name, schemas.get(name))
                if slug is not None:
                    slugs.setdefault(resource.table, slug)
                places = places[:-1]
            if not places:
                continue
            index = places[-1]  # the innermost parent
            name = segments[index][1:-1]
            segment = segments[index - 1] if index > 0 else ""
            prefix = "/" + "/".join(segments[: index + 1])
            parent = mapper.served_at(prefix) or (
                resource_of_segment(resources, segment) if segment else None
            )
            if parent is not None and _unreferenced(graph, resource, parent, name):
                parents.setdefault(resource.table, {}).setdefault(parent.table, parent)
    found = {}
    for key, resource in resources.items():
        addressed = keys.get(resource.table, set())
        fields = [
            replace(f, unique=True) if f.column in addressed and not f.primary_key else f
            for f in resource.fields
        ]
        relations = list(resource.relations)
        if resource.table in slugs:
            fields.append(slugs[resource.table])
        for parent in parents.get(resource.table, {}).values():
            column = f"{singular(parent.table)}_id"
            if resource.field(column) is not None:
                continue
            fields.append(_reference(column, parent.key))
            relations.append(Relation((column,), parent.table, (parent.key.column,)))
        found[key] = replace(resource, fields=tuple(fields), relations=tuple(relations))
    return found


def _slug(resource: Resource, name: str, schema: dict[str, Any] | None) -> Field | None:
    """A slug column for `{slug}` where the schema has none but has a title to make it from."""
    stem = snake(name)
    if stem != "slug" and not stem.endswith("_slug"):
        return None
    if addressed_column(resource, name, "", schema) is not None:
        return None
    for source in SLUG_SOURCES:
        field = resource.field(source)
        if field is not None and field.type == FieldType.STRING and not field.hidden:
            return Field(
                "slug",
                "slug",
                FieldType.STRING,
                nullable=True,
                unique=True,
                generated=Generated.DERIVED,
                read_only=True,
                max_length=field.max_length,
                derived_from=field.column,
            )
    return None


def _unreferenced(graph: RelationGraph, child: Resource, parent: Resource, name: str) -> bool:
    """Whether a parent a path names is one `child` rows have no way to refer to."""
    if parent.table == child.table:
        return False
    if any(hop.target == parent.table for hop in graph.hops(child.table)):
        return False
    field = child.field(name)
    return field is None or field.primary_key or field.hidden


def _reference(column: str, key: Field) -> Field:
    """A hidden column holding a parent's key: the schema never shows it, the path fills it."""
    return Field(
        column,
        column,
        key.type,
        nullable=True,
        big=key.big,
        max_length=key.max_length,
        hidden=True,
    )
