"""Operations that declare no schema in or out work on the rows their neighbours serve.

`DELETE /apps/{id}` answering 204 names no table itself; the path's other operations do
(`GET /apps/{id}` answering an App), or else its collection one segment up does (`/apps`
listing and creating them). It is that resource's delete, or the kind its method says.
"""

from __future__ import annotations

from collections.abc import Callable

from backsmith.model.classify import ITEM_KINDS
from backsmith.model.types import Kind, Resource


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
        collection = path.rstrip("/").rsplit("/", 1)[0]
        if found is None and collection and path.rstrip("/").endswith("}"):
            found = served_at(collection)
        return found
    finally:
        asking.discard(path)


def item_kind(method: str) -> Kind | str:
    """The kind an item path's method says, for an operation whose rows its neighbours
    name (the path's segments need not name them: the neighbours did)."""
    return ITEM_KINDS.get(method, "POST on an item path")
