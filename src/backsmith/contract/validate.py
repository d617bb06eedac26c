"""Validate a bundled document against the OpenAPI 3.0 / 3.1 schema."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

from backsmith.contract.load import Contract
from backsmith.contract.source import escape
from backsmith.errors import ContractError, Issue

MAX_REPORTED = 20


def validate_openapi(contract: Contract) -> None:
    """Raise ContractError listing every way the document breaks the OpenAPI schema."""
    validator_cls = (
        OpenAPIV31SpecValidator if contract.version == "3.1" else OpenAPIV30SpecValidator
    )
    issues: list[Issue] = []
    for error in validator_cls(contract.document).iter_errors():
        path = list(error.absolute_path)
        if path:
            pointer = "".join(f"/{escape(str(token))}" for token in path)
        else:
            # Errors found while checking a schema's `default` or `example` carry no path;
            # find the offending schema in the document instead.
            pointer = _find(contract.document, error.schema, "") or ""
        issue = contract.issue(f"invalid OpenAPI: {_first_line(error.message)}", pointer)
        if issue in issues:  # a shared schema reached through several $refs
            continue
        issues.append(issue)
        if len(issues) >= MAX_REPORTED:
            break
    if issues:
        raise ContractError(issues)


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
