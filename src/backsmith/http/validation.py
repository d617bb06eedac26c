"""Validators compiled once per schema; errors reported as JSON pointers."""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from backsmith.contract.source import escape


class SchemaValidator:
    """A compiled JSON Schema that lists every error with the pointer of its value."""

    __slots__ = ("_validator",)

    def __init__(self, root: dict[str, Any]) -> None:
        self._validator = jsonschema_rs.validator_for(root, validate_formats=True)

    def errors(self, instance: Any, **context: str) -> list[dict[str, Any]]:
        """[] when valid; otherwise one entry per error: detail, pointer, and `context`."""
        if self._validator.is_valid(instance):
            return []
        found = []
        for error in self._validator.iter_errors(instance):
            pointer = "#" + "".join(f"/{escape(str(token))}" for token in error.instance_path)
            found.append({"detail": _message(error.message), "pointer": pointer, **context})
        return found


def _message(message: str) -> str:
    return message if len(message) <= 300 else message[:297] + "..."
