"""Operations that declare no schema in or out work on the rows their neighbours serve.

`DELETE /apps/{id}` answering 204 names no table itself; the path's other operations do
(`GET /apps/{id}` answering an App), or else its collection one segment up does (`/apps`
listing and creating them). It is that resource's delete, or the kind its method says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from backsmith.model.classify import ITEM_KINDS, kind_of
from backsmith.model.envelopes import json_answer
from backsmith.model.paths import is_item_path, path_segments
from backsmith.model.types import Kind, Resource

if TYPE_CHECKING:  # operations.py imports this module
    from backsmith.model.operations import OperationMapper


def served_beside(
    path: str, served_at: Callable[[str], Resource | None], asking: set[str]
) -> Resource | None:
    """What the path's other operations serve, else (on an item path) what its collection
    one segment up serves; None while `path` is in `asking` (served_at asks back here)."""
    if path in asking:
        return None
    asking.add(path)
    try:
        found = served_at(path)
        segments = path_segments(path)
        if found is None and len(segments) > 1 and is_item_path(segments):
            found = served_at("/" + "/".join(segments[:-1]))
        return found
    finally:
        asking.discard(path)


def item_kind(method: str) -> Kind | str:
    """The kind an item path's method says, for an operation whose rows its neighbours
    name (the path's segments need not name them: the neighbours did)."""
    return ITEM_KINDS.get(method, "POST on an item path")


def read_beside(
    mapper: OperationMapper, item: dict[str, Any], resource: Resource, segments: list[str]
) -> bool:
    """Whether the item path's own GET reads rows of `resource` (so its schema-less DELETE
    deletes them); a GET refused there (`/accounts/{id}` answering users served at /users)
    refuses its neighbours too."""
    op = item.get("get")
    if not isinstance(op, dict):
        return False
    _, _, schema = json_answer(mapper.document, op.get("responses"))
    shape = mapper.shape_of(schema, item=True) if schema else None
    kind = kind_of(
        mapper.document, mapper.schema_resources, {}, "get", True, shape, resource, segments, None
    )
    return kind == Kind.READ
