"""The operations of a contract, and which old one is which new one.

An operation is the same one in both contracts when its method and its path template
match, path parameters' names aside (`/books/{id}` is `/books/{bookId}`); an operation
whose path changed is still found by its method and operationId.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from backsmith.model.vocabulary import METHODS
from backsmith.verify.diff.resolve import Node, deref

_PATH_PARAMETER = re.compile(r"\{([^}]*)\}")
# 3.2 adds the QUERY method.
_METHODS = (*METHODS, "query")


@dataclass(frozen=True, slots=True)
class OperationSite:
    """One operation as written: where, its parameters (the path item's, overridden by
    its own) and the security it requires (its own, or the contract's)."""

    method: str  # upper case
    path: str
    operation_id: str
    node: Node
    parameters: dict[tuple[str, str], Node]  # by (in, name); header names in lower case
    security: Node

    @property
    def deprecated(self) -> bool:
        return bool(self.node.value.get("deprecated"))

    @property
    def template(self) -> str:
        """The path with its parameters' names left out: what identifies it to a client."""
        return _PATH_PARAMETER.sub("{}", self.path)

    @property
    def path_parameters(self) -> list[str]:
        return _PATH_PARAMETER.findall(self.path)


def operation_sites(document: dict[str, Any]) -> dict[tuple[str, str], OperationSite]:
    """Every operation of a contract, by method and path template."""
    found: dict[tuple[str, str], OperationSite] = {}
    for path, item in Node(document, "").child("paths").entries().items():
        item = deref(document, item)
        if not isinstance(item.value, dict):
            continue
        shared = _parameters(document, item.child("parameters"))
        for method in _METHODS:
            node = item.child(method)
            if not isinstance(node.value, dict):
                continue
            operation_id = node.value.get("operationId")
            security = node.child("security")
            if security.value is None:
                security = Node(document.get("security"), "/security")
            site = OperationSite(
                method.upper(),
                path,
                operation_id if isinstance(operation_id, str) else "",
                node,
                {**shared, **_parameters(document, node.child("parameters"))},
                security,
            )
            found[(site.method, site.template)] = site
    return found


def _parameters(document: dict[str, Any], listed: Node) -> dict[tuple[str, str], Node]:
    found: dict[tuple[str, str], Node] = {}
    count = len(listed.value) if isinstance(listed.value, list) else 0
    for index in range(count):
        parameter = deref(document, Node(listed.value[index], f"{listed.pointer}/{index}"))
        value = parameter.value
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            where = str(value.get("in", ""))
            name = value["name"].lower() if where == "header" else value["name"]
            found[(where, name)] = parameter
    return found


@dataclass(frozen=True, slots=True)
class Matched:
    """Operations paired old to new (`moved` when only the operationId paired them), and
    those only one contract has."""

    pairs: list[tuple[OperationSite, OperationSite, bool]]
    removed: list[OperationSite]
    added: list[OperationSite]


def match(
    old: dict[tuple[str, str], OperationSite], new: dict[tuple[str, str], OperationSite]
) -> Matched:
    pairs = [(old[key], new[key], False) for key in old if key in new]
    removed = [site for key, site in old.items() if key not in new]
    added = [site for key, site in new.items() if key not in old]
    by_id = {(s.method, s.operation_id): s for s in added if s.operation_id}
    for site in list(removed):
        moved = by_id.pop((site.method, site.operation_id), None) if site.operation_id else None
        if moved is not None:
            pairs.append((site, moved, True))
            removed.remove(site)
            added.remove(moved)
    return Matched(pairs, removed, added)
