"""Mass assignment refused: a write's body may not carry what the client may not set.

`readOnly` properties (ids, owners, timestamps the server keeps) and properties the body
schema does not name answer 422, listed by pointer, instead of being dropped quietly, so
a client that tries to set them learns that it cannot (OWASP API3). `unknown-fields:
ignore` lets unnamed properties through, and so does a schema that allows them with
`additionalProperties`.
"""

from __future__ import annotations

from typing import Any

from backsmith.model.types import BodyFacts


class BodyFields:
    """The top-level properties one operation's body may not carry."""

    def __init__(self, facts: BodyFacts, key_in_body: str | None, ignore_unknown: bool) -> None:
        # With additionalProperties: false the request validator already refuses both:
        # read-only properties are not part of a request schema.
        closed = facts.additional is False
        self.read_only = frozenset(
            name for name in facts.read_only if not closed and name != key_in_body
        )
        strict = facts.properties and facts.additional is None and not ignore_unknown
        self.known: frozenset[str] | None = facts.properties if strict else None

    @property
    def checks(self) -> bool:
        return bool(self.read_only) or self.known is not None

    def errors(self, item: Any, at: str) -> list[dict[str, Any]]:
        """One error per property the client may not send."""
        if not isinstance(item, dict):
            return []
        found = []
        for name in item:
            if name in self.read_only:
                detail = f"'{name}' is read-only: the server sets it"
            elif self.known is not None and name not in self.known:
                detail = f"'{name}' is not a property of this request"
            else:
                continue
            found.append({"detail": detail, "pointer": f"{at}/{_escape(name)}"})
        return found


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
