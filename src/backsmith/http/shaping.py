"""Rows -> JSON objects shaped exactly as the contract's response schema says."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from backsmith.model.schemas import flatten, is_nullable, schema_types
from backsmith.model.types import FieldType, Resource

_Column = tuple[str, str, bool, int]  # API name, column, nullable, conversion
_PLAIN, _DECIMAL_NUMBER, _TEXT = 0, 1, 2


class Shaper:
    """Turns a row into the item object of one response schema, compiled once."""

    __slots__ = ("_columns",)

    def __init__(self, resource: Resource, item_schema: Any, document: dict[str, Any]) -> None:
        columns: list[_Column] = []
        if item_schema is None:
            for field in resource.fields:
                if not field.hidden and not field.write_only:
                    columns.append((field.name, field.column, True, _conversion(field.type, None)))
        else:
            properties = flatten(document, item_schema).get("properties", {})
            for name, prop in properties.items():
                field = resource.field(name)
                prop = flatten(document, prop)
                if field is None or field.hidden or field.write_only or prop.get("writeOnly"):
                    continue
                columns.append(
                    (name, field.column, is_nullable(prop), _conversion(field.type, prop))
                )
        self._columns = tuple(columns)

    def one(self, row: Mapping[str, Any]) -> dict[str, Any]:
        item: dict[str, Any] = {}
        for name, column, nullable, conversion in self._columns:
            value = row[column]
            if value is None:
                # A NULL the schema cannot express is left out rather than sent as null.
                if nullable:
                    item[name] = None
                continue
            if conversion:
                value = float(value) if conversion == _DECIMAL_NUMBER else str(value)
            item[name] = value
        return item

    def many(self, rows: list[Any]) -> list[dict[str, Any]]:
        return [self.one(row) for row in rows]


def _conversion(kind: FieldType, prop: dict[str, Any] | None) -> int:
    # asyncpg returns its own UUID subclass, which orjson does not serialise natively.
    if kind == FieldType.UUID:
        return _TEXT
    if kind != FieldType.DECIMAL:
        return _PLAIN
    if prop is not None and "string" in schema_types(prop):
        return _TEXT
    return _DECIMAL_NUMBER


def default_json(value: Any) -> Any:
    """orjson fallback for types it does not serialise itself."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode()
    raise TypeError(f"cannot serialise {type(value).__name__}")
