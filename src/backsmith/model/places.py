"""Places in an answer: dotted member paths (`meta.pagination.total`) whose keys may hold dots.

A key such as OData's `@odata.nextLink` is one member, not `nextLink` inside `@odata`; in a
place its dots are written `~1` (and a `~` as `~0`, as JSON pointers do), so splitting a
place on `.` finds the keys again.
"""

from __future__ import annotations


def key_place(key: str) -> str:
    """The place of one top-level member named `key`."""
    return key.replace("~", "~0").replace(".", "~1")


def place_keys(place: str) -> list[str]:
    """The member keys along a place, outermost first."""
    return [part.replace("~1", ".").replace("~0", "~") for part in place.split(".")]
