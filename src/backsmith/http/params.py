"""Decode path, query and header parameters from their text form to typed values."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from backsmith.http.validation import SchemaValidator
from backsmith.model.types import Param, ParamLocation

_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


def _scalar(raw: str, types: Collection[str]) -> Any:
    """Best-effort typing of one text value; the validator reports what does not fit."""
    if "integer" in types:
        try:
            return int(raw)
        except ValueError:
            pass
    if "number" in types or "integer" in types:
        try:
            number = float(raw)
            return int(number) if "integer" in types and number.is_integer() else number
        except ValueError:
            pass
    if "boolean" in types:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
    if "null" in types and raw in ("", "null"):
        return None
    return raw


class ParamDecoder:
    """One parameter's decoder and validator, built at start-up."""

    __slots__ = ("default", "is_array", "item_types", "param", "types", "validator")

    def __init__(self, param: Param) -> None:
        self.param = param
        self.types = param.types
        self.is_array = "array" in self.types
        self.item_types = param.item_types
        self.default = param.default
        validation = param.validation
        self.validator = SchemaValidator(dict(validation)) if validation is not None else None

    def decode(self, raw: list[str]) -> Any:
        """The typed value of the raw occurrences of this parameter."""
        if self.is_array:
            if self.param.explode and self.param.location == ParamLocation.QUERY:
                parts = raw
            else:
                parts = [p for value in raw for p in value.split(",")] if raw != [""] else []
            return [_scalar(p, self.item_types) for p in parts]
        return _scalar(raw[-1], self.types)

    def errors(self, value: Any) -> list[dict[str, Any]]:
        if self.validator is None:
            return []
        return self.validator.errors(
            value, parameter=self.param.name, **{"in": self.param.location}
        )
