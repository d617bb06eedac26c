"""Where the rows are in an example body: under a wrapper, in a page, or the body itself.

`{"success": true, "data": {...}}` wraps one row, `{"items": [...], "total": 3}` pages
rows, `{"data": {"students": [...], "pagination": {...}}}` does both. The place is a list
of keys (and `[]` for "each item of the array"), so the drafted schema can put the row's
component exactly there.
"""

from __future__ import annotations

from typing import Any

from backsmith.contract.draft.sketch import Unknown
from backsmith.model.envelopes import DATA_NAMES

# The keys holding one row whatever it is (`{"data": {...}}`): the model reads the same.
WRAPPERS = DATA_NAMES
Place = tuple[str, ...]


def row_place(value: Any, many: bool) -> Place | None:
    """The place of the row (or, with `many`, of each row) in an example, or None."""
    if isinstance(value, list):
        return ("[]",) if value and isinstance(value[0], dict) else None
    if not isinstance(value, dict):
        return None
    wrapped = [k for k in value if k.lower() in WRAPPERS and isinstance(value[k], dict | list)]
    if len(wrapped) == 1:
        inner = row_place(value[wrapped[0]], many)
        if inner is not None:
            return (wrapped[0], *inner)
        if isinstance(value[wrapped[0]], dict) and not many:
            return (wrapped[0],)  # `"data": { /* updated class */ }` too: the row, unshown
        return None
    arrays = [k for k, v in value.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
    if many:
        return (arrays[0], "[]") if len(arrays) == 1 else None
    if not value or (all(isinstance(v, Unknown) for v in value.values()) and len(value) < 2):
        return None
    return ()


def at_place(value: Any, place: Place) -> Any:
    """The value at `place` (the first item for `[]`)."""
    for key in place:
        if key == "[]":
            value = value[0] if isinstance(value, list) and value else None
        elif isinstance(value, dict):
            value = value.get(key)
        else:
            return None
    return value


def set_at(schema: dict[str, Any], place: Place, value: dict[str, Any]) -> dict[str, Any]:
    """`schema` with the schema at `place` replaced by `value`."""
    if not place:
        return value
    head, rest = place[0], place[1:]
    copy = dict(schema)
    if head == "[]":
        copy["items"] = set_at(schema.get("items") or {}, rest, value)
    else:
        properties = dict(schema.get("properties") or {})
        properties[head] = set_at(properties.get(head) or {}, rest, value)
        copy["properties"] = properties
    return copy
