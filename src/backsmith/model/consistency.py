"""Where the DBML model and the OpenAPI schemas disagree about the same resource."""

from __future__ import annotations

from backsmith.contract.dbml import DbmlModel
from backsmith.contract.load import Contract
from backsmith.contract.source import escape
from backsmith.errors import Issue
from backsmith.model.resources import schema_field_type
from backsmith.model.schemas import flatten, is_nullable
from backsmith.model.types import FieldType, Kind, Operation, Owner, ParamRole, Resource

# Schema types a column type may be served as without a warning.
_COMPATIBLE: dict[FieldType, frozenset[FieldType]] = {
    FieldType.STRING: frozenset({FieldType.STRING, FieldType.ENUM}),
    FieldType.ENUM: frozenset({FieldType.ENUM, FieldType.STRING}),
    FieldType.DECIMAL: frozenset({FieldType.DECIMAL, FieldType.NUMBER, FieldType.STRING}),
    FieldType.NUMBER: frozenset({FieldType.NUMBER, FieldType.DECIMAL}),
    FieldType.JSON: frozenset({FieldType.JSON, FieldType.ARRAY}),
    FieldType.ARRAY: frozenset({FieldType.ARRAY, FieldType.JSON}),
}


def compare_dbml(
    contract: Contract,
    dbml: DbmlModel,
    resources: dict[str, Resource],
    related: dict[str, set[str]] | None = None,
    filled: dict[str, set[str]] | None = None,
) -> list[Issue]:
    """Warnings for missing fields, type or enum mismatches, and required vs nullable.

    `related` names, per table, the properties served from relations or computed; they
    need no column. `filled` names, per table, the columns the server fills on create
    (the owner from the caller, the parent's key from a nested path): they need no property.
    """
    related = related or {}
    filled = filled or {}
    document = contract.document
    warnings: list[Issue] = []
    for resource in resources.values():
        if resource.schema is None:
            continue
        pointer = f"/components/schemas/{escape(resource.schema)}"
        schema = flatten(document, {"$ref": f"#{pointer}"})
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))

        def warn(message: str, prop: str | None = None, pointer: str = pointer) -> None:
            where = f"{pointer}/properties/{escape(prop)}" if prop else pointer
            warnings.append(contract.issue(message, where, severity="warning"))

        for name in properties:
            if resource.field(name) is None and name not in related.get(resource.table, ()):
                warn(f"{resource.schema}.{name} has no column in DBML table {resource.table}", name)
        for field in resource.fields:
            if field.name not in properties:
                unset = field.generated is None and field.default is None and not field.sql_default
                unset = unset and field.column not in filled.get(resource.table, ())
                if not field.nullable and unset:
                    warn(
                        f"column {resource.table}.{field.column} is NOT NULL without a default "
                        f"but {resource.schema} has no property for it"
                    )
                continue
            prop = flatten(document, properties[field.name])
            prop_type, _ = schema_field_type(document, properties[field.name])
            allowed = _COMPATIBLE.get(field.type, frozenset({field.type}))
            if prop_type not in allowed and prop_type != FieldType.JSON:
                warn(
                    f"{resource.schema}.{field.name} is {prop_type} but column "
                    f"{resource.table}.{field.column} is {field.type}",
                    field.name,
                )
            if field.enum and prop.get("enum"):
                declared = {str(v) for v in prop["enum"] if v is not None}
                if declared != set(field.enum):
                    warn(
                        f"{resource.schema}.{field.name} enum {sorted(declared)} differs from "
                        f"DBML {sorted(field.enum)}",
                        field.name,
                    )
            if field.name in required and not is_nullable(prop) and field.nullable:
                warn(
                    f"{resource.schema}.{field.name} is required and not nullable but column "
                    f"{resource.table}.{field.column} allows NULL",
                    field.name,
                )
            if is_nullable(prop) and not field.nullable:
                warn(
                    f"{resource.schema}.{field.name} is nullable but column "
                    f"{resource.table}.{field.column} is NOT NULL",
                    field.name,
                )
    return warnings


def filled_columns(
    owners: dict[str, Owner], resources: dict[str, Resource], operations: list[Operation]
) -> dict[str, set[str]]:
    """Per table, the columns a create fills without a property: the owner's column (from
    the caller) and the reference to the parent a nested create's path names."""
    filled: dict[str, set[str]] = {}
    for table, owner in owners.items():
        if not owner.hops:
            filled.setdefault(table, set()).add(owner.column)
    for op in operations:
        resource = resources.get(op.resource or "")
        if op.kind != Kind.CREATE or resource is None:
            continue
        for param in op.params:
            if param.role != ParamRole.SCOPE:
                continue
            column = param.hops[0].source_columns[0] if param.hops else param.column
            if column:
                filled.setdefault(resource.table, set()).add(column)
    return filled
