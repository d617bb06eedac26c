"""Where each node of a rewritten document came from, so its errors name the original line.

A rewrite (Swagger 2.0 to OpenAPI 3.0) moves nodes: `/definitions/Pet` becomes
`/components/schemas/Pet`, a parameter's `type` becomes its `schema/type`. The rewrite
marks each object it makes with the pointer of the node it was made from; `relocate` then
walks the new document and gives every pointer the position of its source. A child with
no mark of its own comes from the same key under its parent's source, when the source has
one there, and otherwise shares its parent's position (a key the rewrite added).
"""

from __future__ import annotations

from typing import Any, TypeVar

from backsmith.contract.source import escape

Node = TypeVar("Node")
Position = TypeVar("Position")


class Origins:
    """The source pointer of each object a rewrite made, and of keys it renamed."""

    def __init__(self) -> None:
        self._sources: dict[int, str] = {}
        self._keys: dict[tuple[int, str], str] = {}
        # Marks are by identity: the marked objects are kept alive, so no id is reused.
        self._kept: list[Any] = []

    def mark(self, node: Node, source: str) -> Node:
        """Say that `node` (a dict or list) was made from the node at `source`; `node`."""
        self._sources[id(node)] = source
        self._kept.append(node)
        return node

    def key(self, parent: dict[str, Any], key: str, source: str) -> None:
        """Say that `parent[key]` came from the node at `source` (a renamed key)."""
        self._keys[(id(parent), key)] = source
        self._kept.append(parent)

    def relocate(
        self, document: dict[str, Any], positions: dict[str, Position]
    ) -> tuple[dict[str, Any], dict[str, Position]]:
        """A copy of `document` that shares no object twice, and the position of each of its
        pointers, taken from `positions` (source pointer -> position)."""
        found: dict[str, Position] = {}

        def child(parent: Any, key: str, source: str | None) -> str | None:
            renamed = self._keys.get((id(parent), key))
            if renamed is not None:
                return renamed
            probe = f"{source}/{escape(key)}" if source is not None else None
            return probe if probe in positions else None

        def walk(node: Any, out: str, source: str | None, inherited: Position | None) -> Any:
            if isinstance(node, dict | list):
                source = self._sources.get(id(node), source)
            position = positions.get(source) if source is not None else None
            if position is None:
                position = inherited
            if position is not None:
                found[out] = position
            if isinstance(node, dict):
                return {
                    key: walk(value, f"{out}/{escape(key)}", child(node, key, source), position)
                    for key, value in node.items()
                }
            if isinstance(node, list):
                return [
                    walk(value, f"{out}/{index}", child(node, str(index), source), position)
                    for index, value in enumerate(node)
                ]
            return node

        return walk(document, "", "", None), found
