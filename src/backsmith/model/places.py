"""Places in an answer: dotted member paths (`meta.pagination.total`) whose keys may hold dots.

A key such as OData's `@odata.nextLink` is one member, not `nextLink` inside `@odata`; in a
place its dots are written `~1` (and a `~` as `~0`, as JSON pointers do), so splitting a
place on `.` finds the keys again.
"""

from __future__ import annotations

from functools import lru_cache


def key_place(key: str) -> str:
    """The place of one top-level member named `key`."""
    return key.replace("~", "~0").replace(".", "~1")


@lru_cache(maxsize=4096)
def place_keys(place: str) -> tuple[str, ...]:
    """The member keys along a place, outermost first (read once per place: answers set
    them on every request)."""
    return tuple(part.replace("~1", ".").replace("~0", "~") for part in place.split("."))
