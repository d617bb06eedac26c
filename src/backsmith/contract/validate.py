"""Validate a bundled document against the OpenAPI 3.0, 3.1 or 3.2 schema."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import orjson

from backsmith.contract import cache
from backsmith.contract.load import Contract
from backsmith.contract.source import escape
from backsmith.errors import ContractError, Issue

MAX_REPORTED = 20
_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def validate_openapi(contract: Contract) -> None:
    """Raise ContractError listing every way the document breaks the OpenAPI schema.

    The document's structure is checked first against the official JSON Schema, whose
    errors carry absolute paths; only a well-shaped document goes on to the semantic
    checks (schemas, parameters, refs), whose errors carry paths relative to the schema
    they were found in and are located by searching the document.

    A document that passed before (same bytes, same validator) is not checked again:
    the validator is the slowest part of start-up, mostly its import.
    """
    try:
        # No fallback for other types, and no non-finite floats (orjson writes them as
        # null): two documents must never share a digest.
        body = orjson.dumps(contract.document, option=_CANONICAL)
        finite = _finite(contract.document)
    except (orjson.JSONEncodeError, RecursionError):
        finite = False
    if not finite:  # not plain JSON data: checked in full, every time
        _check(contract)
        return
    name = cache.digest(contract.version.encode(), body)
    if cache.recall("validated", name) is not None:
        return
    if cache.filled_apart(lambda: _check_and_remember(contract, name)):
        return  # valid: a child checked it (and remembered it, where it could)
    _check_and_remember(contract, name)


def _check_and_remember(contract: Contract, name: str) -> None:
    _check(contract)
    cache.remember("validated", name)


def _finite(node: Any) -> bool:
    if isinstance(node, float):
        return math.isfinite(node)
    if isinstance(node, dict):
        return all(_finite(value) for value in node.values())
    if isinstance(node, list):
        return all(_finite(value) for value in node)
    return True


def _check(contract: Contract) -> None:
    from openapi_spec_validator import (
        OpenAPIV30SpecValidator,
        OpenAPIV31SpecValidator,
        OpenAPIV32SpecValidator,
    )

    validator_cls = {"3.1": OpenAPIV31SpecValidator, "3.2": OpenAPIV32SpecValidator}.get(
        contract.version, OpenAPIV30SpecValidator
    )
    issues: list[Issue] = []
    structural = validator_cls.schema_validator.iter_errors(contract.document)
    for error in structural:
        pointer = _pointer(error.absolute_path)
        _add(issues, contract.issue(f"invalid OpenAPI: {_first_line(error.message)}", pointer))
        if len(issues) >= MAX_REPORTED:
            break
    if issues:
        raise ContractError(issues)
    try:
        for error in validator_cls(contract.document).iter_errors():
            pointer = _locate(contract.document, list(error.absolute_path), error)
            _add(issues, contract.issue(f"invalid OpenAPI: {_first_line(error.message)}", pointer))
            if len(issues) >= MAX_REPORTED:
                break
    except Exception as exc:  # the validator library trips over shapes it did not expect
        issues.append(contract.issue(f"invalid OpenAPI: cannot check the document ({exc!r})", ""))
    if issues:
        raise ContractError(issues)


def _add(issues: list[Issue], issue: Issue) -> None:
    if issue not in issues:  # a shared schema reached through several $refs
        issues.append(issue)


def _pointer(path: Any) -> str:
    return "".join(f"/{escape(str(token))}" for token in path)


def _locate(document: Any, relative: list[Any], error: Any) -> str:
    """The absolute pointer of an error whose path is relative to some schema."""
    if not relative:
        return _find(document, error.schema, "") or ""
    for pointer, node in _nodes(document, ""):
        value = _follow(node, relative)
        if (
            value is not _MISSING
            and value == error.instance
            and type(value) is type(error.instance)
        ):
            return pointer + _pointer(relative)
    return ""


_MISSING = object()


def _follow(node: Any, path: list[Any]) -> Any:
    for token in path:
        if isinstance(node, dict) and str(token) in node:
            node = node[str(token)]
        elif isinstance(node, list) and isinstance(token, int) and token < len(node):
            node = node[token]
        else:
            return _MISSING
    return node


def _nodes(node: Any, pointer: str) -> Iterator[tuple[str, Any]]:
    """Every mapping in the document with its pointer, components first (where schemas live)."""
    if isinstance(node, dict):
        yield pointer, node
        for key, value in sorted(node.items(), key=lambda kv: kv[0] != "components"):
            yield from _nodes(value, f"{pointer}/{escape(str(key))}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nodes(value, f"{pointer}/{index}")


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "invalid"
    return line if len(line) <= 300 else line[:297] + "..."


def _find(node: Any, target: Any, pointer: str) -> str | None:
    if node is target or (isinstance(target, dict) and node == target and node):
        return pointer
    if isinstance(node, dict):
        for key, value in node.items():
            found = _find(value, target, f"{pointer}/{escape(str(key))}")
            if found is not None:
                return found
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found = _find(value, target, f"{pointer}/{index}")
            if found is not None:
                return found
    return None
