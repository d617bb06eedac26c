"""Decode path, query and header parameters from their text form to typed values."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from backsmith.http.validation import SchemaValidator
from backsmith.model.types import Param, ParamLocation

_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})
# What separates an array's items, by style (`form` and `simple`: a comma).
_SEPARATORS = {"spaceDelimited": " ", "pipeDelimited": "|"}
# The one spelling of each number, as JSON writes it; ASCII only (`int` and `float` also read
# "+1", "0001", "1_0", " 1", and digits of every script, such as Arabic-Indic or fullwidth ones).
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)", re.ASCII)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?", re.ASCII)


def scalar(raw: str, types: Collection[str]) -> Any:
    """Best-effort typing of one text value; the validator reports what does not fit."""
    if "integer" in types and _INTEGER.fullmatch(raw):
        return int(raw)
    if "number" in types and _NUMBER.fullmatch(raw):
        return float(raw)
    if "boolean" in types:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
    if "null" in types and raw in ("", "null"):
        return None
    return raw


def _nul_errors(value: Any) -> list[dict[str, Any]]:
    """Pointers to text that holds a NUL, which SQLite stores and PostgreSQL refuses."""
    if isinstance(value, str):
        return (
            [{"detail": "the value holds a NUL character", "pointer": "#"}]
            if "\x00" in value
            else []
        )
    if isinstance(value, list):
        return [
            {"detail": "the value holds a NUL character", "pointer": f"#/{index}"}
            for index, item in enumerate(value)
            if isinstance(item, str) and "\x00" in item
        ]
    return []


class ParamDecoder:
    """One parameter's decoder and validator, built at start-up."""

    __slots__ = (
        "default",
        "is_array",
        "item_types",
        "param",
        "separator",
        "types",
        "validator",
        "where",
    )

    def __init__(self, param: Param) -> None:
        self.param = param
        self.types = param.types
        self.is_array = "array" in self.types
        self.separator = _SEPARATORS.get(param.style, ",")
        self.item_types = param.item_types
        self.default = param.default
        validation = param.validation
        self.validator = SchemaValidator(dict(validation)) if validation is not None else None
        # What each error says of the parameter it is about.
        self.where = {"parameter": param.name, "in": str(param.location)}

    def decode(self, raw: list[str]) -> Any:
        """The typed value of the raw occurrences of this parameter."""
        if self.is_array:
            if self.param.explode and self.param.location == ParamLocation.QUERY:
                parts = raw
            else:
                parts = [p for v in raw for p in v.split(self.separator)] if raw != [""] else []
            return [scalar(p, self.item_types) for p in parts]
        return scalar(raw[-1], self.types)

    def errors(self, value: Any) -> list[dict[str, Any]]:
        found = [] if self.validator is None else self.validator.errors(value, **self.where)
        found.extend({**error, **self.where} for error in _nul_errors(value))
        return found
