"""Names a contract gives to-many relations that conventions cannot tell apart.

Two references from one table to another (`messages.sender_id` and `recipient_id`, or a
join table linking customers to themselves) give two relations the same conventional
name. A schema names the ones it means, each by the rows and the column referring back:
`x-backsmith: {relations: {following: follows.follower_id, sent: messages.sender_id}}`.
"""

from __future__ import annotations

from typing import Any

from backsmith.contract.source import escape
from backsmith.errors import Issue
from backsmith.model.relations import Declared
from backsmith.model.types import Resource


def read_relation_names(
    contract: Any, resources: dict[str, Resource], schema_resources: dict[str, str]
) -> tuple[Declared, list[Issue]]:
    """Declared relation names by source table, and an issue for each that names nothing."""
    declared: dict[str, dict[str, tuple[str, str]]] = {}
    issues: list[Issue] = []
    by_table = {r.table: r for r in resources.values()}
    schemas = (contract.document.get("components") or {}).get("schemas") or {}
    for name, schema in schemas.items():
        ext = schema.get("x-backsmith") if isinstance(schema, dict) else None
        relations = ext.get("relations") if isinstance(ext, dict) else None
        if not isinstance(relations, dict):
            continue
        pointer = f"/components/schemas/{escape(name)}/x-backsmith/relations"
        source = by_table.get(schema_resources.get(name, ""))
        if source is None:
            issues.append(contract.issue(f"schema '{name}' is stored in no table", pointer))
            continue
        for relation, value in relations.items():
            where = f"{pointer}/{escape(str(relation))}"
            problem = _problem(by_table, source, str(value))
            if problem:
                issues.append(contract.issue(f"relation '{relation}': {problem}", where))
                continue
            rows, _, column = str(value).partition(".")
            declared.setdefault(source.table, {})[str(relation)] = (rows, column)
    return declared, issues


def _problem(by_table: dict[str, Resource], source: Resource, value: str) -> str:
    """What is wrong with `rows.column` as a relation of `source`; empty when nothing is."""
    rows_table, _, column = value.partition(".")
    rows = by_table.get(rows_table)
    if rows is None or not column or "." in column:
        return f"'{value}' must be <table>.<column>, a column referring to {source.table}"
    if not any(r.columns == (column,) and r.target == source.table for r in rows.relations):
        referring = [
            f"{rows.table}.{r.columns[0]}"
            for r in rows.relations
            if r.target == source.table and len(r.columns) == 1
        ]
        found = f" (these do: {', '.join(referring)})" if referring else ""
        return f"{value} does not refer to {source.table}{found}"
    return ""
