"""Where in the document a mapping fact was written, for errors that point at it."""

from __future__ import annotations

from typing import Any

from backsmith.model.schemas import deref
from backsmith.model.types import Param


def ext_pointer(item: dict[str, Any], op: dict[str, Any], pointer: str, key: str) -> str:
    """Where an operation's `x-backsmith` key is written: on the operation or its path item."""
    if key in (op.get("x-backsmith") or {}):
        return f"{pointer}/x-backsmith/{key}"
    return f"{pointer.rsplit('/', 1)[0]}/x-backsmith/{key}"


def param_pointer(
    document: dict[str, Any], item: dict[str, Any], op: dict[str, Any], pointer: str, param: Param
) -> str:
    """Where a parameter's `x-backsmith` filter is written (the operation's list wins)."""
    for holder, where in ((op, pointer), (item, pointer.rsplit("/", 1)[0])):
        for index, raw in enumerate(holder.get("parameters") or []):
            found = deref(document, raw)
            if not isinstance(found, dict) or found.get("name") != param.name:
                continue
            if isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
                return f"{raw['$ref'].removeprefix('#')}/x-backsmith/filter"
            return f"{where}/parameters/{index}/x-backsmith/filter"
    return pointer
