"""The indexes that queries across relations need, and which of them the model lacks.

A filter across a relation, an embedded relation or a computed count searches the related
table by a column. Without an index on it every request scans that table, so `check`
names each such column with the operation that needs it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from backsmith.contract.load import Contract
from backsmith.errors import Issue
from backsmith.model.relations import RelationGraph
from backsmith.model.types import Hop, HopKind, ItemShape, Operation, Resource


def indexed(resource: Resource, column: str) -> bool:
    """Whether lookups by `column` can use an index: a key, unique, or an index's first column."""
    if resource.primary_key and resource.primary_key[0] == column:
        return True
    field = resource.field(column)
    if field is not None and field.unique and field.column == column:
        return True
    return any(index.columns and index.columns[0] == column for index in resource.indexes)


def _hop_columns(hop: Hop) -> Iterator[tuple[str, str]]:
    """(table, column) pairs a query along `hop` searches by."""
    if hop.kind == HopKind.MANY:
        yield hop.target, hop.target_columns[0]
    elif hop.kind == HopKind.THROUGH and hop.join:
        yield hop.join, hop.join_source[0]
        yield hop.join, hop.join_target[0]


def _shape_columns(shape: ItemShape | None, depth: int = 0) -> Iterator[tuple[str, str, str]]:
    for member in shape.members if shape is not None and depth < 8 else ():
        if member.hop is not None:
            for table, column in _hop_columns(member.hop):
                yield table, column, f"'{member.name}'"
            yield from _shape_columns(member.shape, depth + 1)
        if member.computed is not None:
            for table, column in _hop_columns(member.computed.hop):
                yield table, column, f"'{member.name}'"


def _needed(operation: Operation) -> Iterator[tuple[str, str, str]]:
    for param in operation.params:
        if not param.hops:
            continue
        for hop in param.hops:
            for table, column in _hop_columns(hop):
                yield table, column, f"parameter '{param.name}'"
        if param.column:
            yield param.hops[-1].target, param.column, f"parameter '{param.name}'"
    scope = operation.caller_scope
    for hop in scope.hops if scope is not None else ():
        for table, column in _hop_columns(hop):
            yield table, column, "its where"
    if operation.response is not None:
        yield from _shape_columns(operation.response.shape)


def missing_indexes(
    contract: Contract, graph: RelationGraph, operations: Sequence[Operation]
) -> list[Issue]:
    """A warning per column that a relation query searches without an index."""
    warnings = []
    seen: set[tuple[str, str]] = set()
    for operation in operations:
        for table, column, reason in _needed(operation):
            resource = graph.resource(table)
            if resource is None or (table, column) in seen or indexed(resource, column):
                continue
            seen.add((table, column))
            message = (
                f"{reason} of {operation.operation_id} searches {table}.{column}, which has no "
                f"index; add one (DBML: indexes {{ {column} }} in table {table})"
            )
            warnings.append(contract.issue(message, operation.pointer, severity="warning"))
    return warnings
