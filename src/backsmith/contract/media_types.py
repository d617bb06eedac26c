"""OpenAPI 3.2's reusable media types (`components/mediaTypes`), copied where they are used.

A `content` entry may be a `$ref` to `#/components/mediaTypes/<name>`. Everything that reads
request and response bodies expects a Media Type Object there, so the bundled document holds
a copy of the component in its place, each pointer of the copy located where the component
is written.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import unquote

from backsmith.contract.refs import resolve_pointer
from backsmith.contract.source import escape
from backsmith.errors import ContractError, Issue

PREFIX = "#/components/mediaTypes/"
_MAX_HOPS = 20

Position = tuple[str, int | None]


def inline_media_types(document: dict[str, Any], positions: dict[str, Position]) -> None:
    """Replace each `content` entry that refers to a reusable media type by its copy."""
    issues: list[Issue] = []

    def walk(node: Any, pointer: str) -> None:
        if isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{pointer}/{index}")
            return
        if not isinstance(node, dict):
            return
        content = node.get("content")
        if isinstance(content, dict):
            for media, entry in content.items():
                at = f"{pointer}/content/{escape(media)}"
                target = _target(document, entry, at, positions, issues)
                if target is not None:
                    content[media] = copy.deepcopy(target[0])
                    _copy_positions(positions, target[1], at)
        for key, value in node.items():
            if not key.startswith("x-") and key not in ("example", "examples", "default"):
                walk(value, f"{pointer}/{escape(key)}")

    walk(document, "")
    if issues:
        raise ContractError(issues)


def _target(
    document: dict[str, Any],
    entry: Any,
    at: str,
    positions: dict[str, Position],
    issues: list[Issue],
) -> tuple[Any, str] | None:
    """The media type `entry` refers to, and its pointer; None for an entry of its own."""
    found: tuple[Any, str] | None = None
    for _ in range(_MAX_HOPS):
        ref = entry.get("$ref") if isinstance(entry, dict) else None
        if not isinstance(ref, str) or not ref.startswith(PREFIX):
            return found
        try:
            entry = resolve_pointer(document, ref[1:])
        except KeyError:
            return None  # the bundler has said so already
        found = (entry, unquote(ref[1:]))
    file, line = positions.get(at, ("<contract>", None))
    issues.append(Issue("circular $ref between reusable media types", file, line, at))
    return None


def _copy_positions(positions: dict[str, Position], source: str, out: str) -> None:
    for pointer, position in list(positions.items()):
        if pointer == source or pointer.startswith(source + "/"):
            positions[out + pointer[len(source) :]] = position
