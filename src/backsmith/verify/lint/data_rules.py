"""Lint rules on the data behind the API: pages without a cap, queries and foreign keys
no index serves, enums the DBML and the schemas tell differently.

Index rules read only tables a DBML model declares: there the team chose the indexes;
tables backsmith infers from schemas get the indexes backsmith chooses.
"""

from __future__ import annotations

from collections.abc import Iterator

from backsmith.contract.source import escape
from backsmith.model.findings import declared_parameter_pointer
from backsmith.model.types import Kind, ParamRole, Resource
from backsmith.verify.lint.rules import WARNING, Hit, Review, operation_name, rule

_QUERIED = frozenset({ParamRole.FILTER, ParamRole.SORT, ParamRole.ORDER})


@rule(
    "list-without-page-cap",
    WARNING,
    "a list whose page size the contract does not cap",
    "give the limit parameter a maximum, or x-backsmith: {max-page-size: 100}",
)
def list_without_page_cap(review: Review) -> Iterator[Hit]:
    cap = review.settings.max_page_size
    if "max-page-size" in review.model.options:  # the root's cap is every list's
        return
    for op in review.served():
        if op.kind != Kind.LIST or op.max_page_size is not None:
            continue
        limits = [p for p in op.params if p.role == ParamRole.LIMIT]
        if any("maximum" in p.schema for p in limits):
            continue
        yield Hit(
            op.pointer,
            f"{operation_name(op)} declares no largest page: served capped at {cap} (the "
            "max_page_size setting), which its clients cannot read from the contract",
        )


def _leads_an_index(resource: Resource, columns: tuple[str, ...]) -> bool:
    """Whether an index, the primary key or a unique column starts with `columns`."""
    width = len(columns)
    leading = [resource.primary_key, *(index.columns for index in resource.indexes)]
    leading += [(field.column,) for field in resource.fields if field.unique]
    return any(tuple(lead[:width]) == columns for lead in leading)


@rule(
    "unindexed-query",
    WARNING,
    "a filter or sort on a column no index leads (DBML tables)",
    "add an index on the column in the DBML model: indexes { column }",
)
def unindexed_query(review: Review) -> Iterator[Hit]:
    model = review.model
    for op in review.served():
        resource = model.resources.get(op.resource or "")
        if op.kind != Kind.LIST or resource is None or resource.source != "dbml":
            continue
        for param in op.params:
            if param.role not in _QUERIED or param.hops or param.column is None:
                continue
            if not _leads_an_index(resource, (param.column,)):
                yield Hit(
                    declared_parameter_pointer(
                        review.document, op, param.name, str(param.location)
                    ),
                    f"{operation_name(op)} filters or sorts by {resource.table}.{param.column}"
                    ", which no index leads: each request scans the table",
                )


@rule(
    "foreign-key-without-index",
    WARNING,
    "a foreign key no index leads (DBML tables): joins and deletes of the parent scan",
    "add an index on the referencing column(s) in the DBML model",
)
def foreign_key_without_index(review: Review) -> Iterator[Hit]:
    for resource in review.model.resources.values():
        if resource.source != "dbml":
            continue
        for relation in resource.relations:
            if _leads_an_index(resource, relation.columns):
                continue
            columns = ", ".join(relation.columns)
            yield Hit(
                _schema_pointer(resource, relation.columns[0]),
                f"{resource.table}({columns}) refers to {relation.target} with no index: "
                f"listing a {relation.target} row's {resource.table}, or deleting it, scans "
                f"{resource.table}",
            )


def _schema_pointer(resource: Resource, column: str) -> str:
    """The property of `column` in the resource's schema, or the schema itself."""
    if resource.schema is None:
        return ""
    field = next((f for f in resource.fields if f.column == column), None)
    base = f"/components/schemas/{escape(resource.schema)}"
    return f"{base}/properties/{escape(field.name)}" if field is not None else base


@rule(
    "enum-mismatch",
    WARNING,
    "an enum whose values differ between the DBML model and the schema",
    "make the DBML enum and the schema's enum list the same values",
)
def enum_mismatch(review: Review) -> Iterator[Hit]:
    model = review.model
    for resource in model.resources.values():
        if resource.source != "dbml" or resource.schema is None:
            continue
        schemas = model.field_schemas.get(resource.name, {})
        for field in resource.fields:
            declared = schemas.get(field.name, {}).get("enum")
            if not field.enum or not isinstance(declared, list):
                continue
            values = {str(value) for value in declared if value is not None}
            if values != set(field.enum):
                yield Hit(
                    _schema_pointer(resource, field.column),
                    f"{resource.schema}.{field.name} allows {sorted(values)}, the DBML column "
                    f"{resource.table}.{field.column} {sorted(field.enum)}: a value one "
                    "accepts the other refuses",
                )
