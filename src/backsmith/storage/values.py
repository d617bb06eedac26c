"""Values as columns store them: those the server sets itself, and validated JSON values."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from backsmith.model.types import Field, FieldType, Generated, Resource
from backsmith.storage.ids import CANONICAL_UUID, uuid7_text


class Stamps:
    """The values a resource's server sets: timestamps, and generated ids on create."""

    def __init__(self, resource: Resource, new_id: Callable[[], Any] = uuid7_text) -> None:
        self._new_id = new_id  # canonical text: what the serving connections bind
        self.created = [f.column for f in resource.fields if f.generated == Generated.CREATED]
        self.updated = [f.column for f in resource.fields if f.generated == Generated.UPDATED]
        self.ids = [f for f in resource.fields if f.generated == Generated.UUID7]

    def values(self, creating: bool) -> dict[str, Any]:
        now = datetime.now(UTC)
        values: dict[str, Any] = dict.fromkeys(self.updated, now)
        if creating:
            values.update(dict.fromkeys(self.created, now))
            for field in self.ids:
                new = self._new_id()
                # A string column holding UUIDs (an id the schema types as a plain string)
                # takes text: only a uuid column's type binds a UUID object.
                values[field.column] = new if field.type == FieldType.UUID else str(new)
        return values


def slugify(text: str) -> str:
    """`A Wizard of Earthsea!` -> `a-wizard-of-earthsea`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "item"


# Kinds whose validated JSON value is already what the column stores: most body fields.
_AS_GIVEN = frozenset(
    {FieldType.STRING, FieldType.NUMBER, FieldType.BOOLEAN, FieldType.ENUM}
    | {FieldType.JSON, FieldType.ARRAY, FieldType.BINARY}
)


def from_json(field: Field, value: Any) -> Any:
    """A validated JSON value as the Python value its column stores."""
    kind = field.type
    if kind in _AS_GIVEN or value is None:
        return value
    if kind == FieldType.UUID:
        # The canonical text: the form rows hold and both databases bind. Text already in
        # that form is kept (a `UUID` made and written out again cost a read by id about
        # 2% of its CPU); capitals, braces or no hyphens are read and written canonically.
        if isinstance(value, str) and CANONICAL_UUID.fullmatch(value):
            return value
        return str(value if isinstance(value, UUID) else UUID(str(value)))
    if kind == FieldType.DATETIME:
        parsed = datetime.fromisoformat(str(value).replace("z", "Z"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if kind == FieldType.DATE:
        return date.fromisoformat(str(value))
    if kind == FieldType.DECIMAL:
        return Decimal(str(value))
    if kind == FieldType.INTEGER:
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(f"not an integer: {value!r}")
    return value
