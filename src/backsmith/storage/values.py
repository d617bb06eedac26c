"""Values the server sets itself: timestamps, generated ids, and slugs derived from text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from backsmith.model.types import FieldType, Generated, Resource
from backsmith.storage.ids import uuid7_text


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
