"""Compare an operation's parameters: path, query, header and cookie.

Path parameters pair by their place in the path (a renamed one is the same one); the
others by where they go and their name.
"""

from __future__ import annotations

import json
from typing import Any

from backsmith.verify.diff.changes import Recorder
from backsmith.verify.diff.operations import OperationSite
from backsmith.verify.diff.resolve import Node, flatten
from backsmith.verify.diff.schemas import SchemaComparison


def compare_parameters(
    record: Recorder,
    documents: tuple[dict[str, Any], dict[str, Any]],
    old: OperationSite,
    new: OperationSite,
    moved: bool,
) -> None:
    """Every change to the parameters of one operation; a moved operation's path
    parameters were reported with its move."""
    old_params, new_params = dict(old.parameters), dict(new.parameters)
    if moved:  # its path parameters were said with the move
        old_params = {k: v for k, v in old_params.items() if k[0] != "path"}
        new_params = {k: v for k, v in new_params.items() if k[0] != "path"}
    else:  # paired by their place in the path
        for old_name, new_name in zip(old.path_parameters, new.path_parameters, strict=False):
            before = old_params.pop(("path", old_name), None)
            after = new_params.pop(("path", new_name), None)
            if old_name != new_name and after is not None:
                message = f"path parameter '{old_name}' was renamed '{new_name}'"
                record.new_side("request-path-param-renamed", message, after.pointer)
            if before is not None and after is not None:
                _compare_one(record, documents, f"path parameter '{new_name}'", before, after)
    both = record.pair_up(old_params, new_params, _removed, _added)
    for (where, name), before, after in both:
        _compare_one(record, documents, f"{where} parameter '{name}'", before, after)


def _removed(key: tuple[str, str], _: Node) -> tuple[str, str]:
    return "request-parameter-removed", f"{key[0]} parameter '{key[1]}' was removed"


def _added(key: tuple[str, str], parameter: Node) -> tuple[str, str]:
    kind = "required" if parameter.value.get("required") is True else "optional"
    return f"new-{kind}-request-parameter", f"{key[0]} parameter '{key[1]}' ({kind}) was added"


def _compare_one(
    record: Recorder,
    documents: tuple[dict[str, Any], dict[str, Any]],
    label: str,
    before: Node,
    after: Node,
) -> None:
    was, now = before.value.get("required") is True, after.value.get("required") is True
    if was != now:
        rule = "request-parameter-became-required" if now else "request-parameter-became-optional"
        said = "required" if now else "optional"
        record.new_side(rule, f"{label} became {said}", after.child("required").pointer)
    old_way, new_way = _serialization(before), _serialization(after)
    if old_way != new_way:
        message = f"{label} is now written style={new_way[0]}, explode={new_way[1]}, not " + (
            f"style={old_way[0]}, explode={old_way[1]}"
        )
        record.new_side("request-parameter-serialization-changed", message, after.pointer)
    old_schema, new_schema = _schema(before), _schema(after)
    old_default, new_default = (
        _default(documents[0], old_schema),
        _default(documents[1], new_schema),
    )
    if old_default != new_default:
        message = (
            f"{label}: its default went from {old_default or 'none'} to {new_default or 'none'}"
        )
        record.new_side("request-parameter-default-value-changed", message, new_schema.pointer)
    comparison = SchemaComparison(record, *documents, request=True, where=label)
    comparison.compare(old_schema, new_schema, "request-parameter")


def _serialization(parameter: Node) -> tuple[str, bool]:
    """Its style and explode, the defaults OpenAPI gives filled in (form for query and
    cookie, simple for path and header; explode only for form)."""
    value = parameter.value
    default = "form" if value.get("in") in ("query", "cookie") else "simple"
    style = str(value.get("style", default))
    return style, bool(value.get("explode", style == "form"))


def _schema(parameter: Node) -> Node:
    """The parameter's schema: its own, or its one media type's (`content`)."""
    if "schema" in parameter.value:
        return parameter.child("schema")
    for media_type in parameter.child("content").entries().values():
        return media_type.child("schema")
    return Node({}, parameter.pointer)


def _default(document: dict[str, Any], schema: Node) -> str | None:
    flat = flatten(document, schema)
    return json.dumps(flat.get("default"), sort_keys=True) if "default" in flat.keywords else None
