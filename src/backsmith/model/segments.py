"""Which schema a path segment serves when the schema's name is not just the segment's.

Real contracts name a nested resource by its parent (`ApiVersion` at `/apis/{api}/versions`),
qualify it with a short prefix (`ADGroup` at `/groups`), name a view of it (`EpisodeFull`,
`PodcastSimple`, `app_response` at `/episodes`, `/podcasts`, `/apps`), or name it in full
only in the item's parameter (`TaxRate` at `/taxes/{taxRateUuid}`). The segment naming the
schema outright (`books` ~ `Book`), alone or joined to its parent's singular, is an exact
match; the other conventions are loose ones, which callers take only where exactly one
candidate answers.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from backsmith.model.naming import KEY_WORDS, names_match, singular, snake, variant_base


class Match(IntEnum):
    NONE = 0
    LOOSE = 1
    EXACT = 2


def segment_match(segment: str, parent: str, param: str, name: str) -> Match:
    """How well a static path `segment` (under the static segment `parent`, followed by the
    item parameter `param` if any) names the rows of the schema or table `name`."""
    if not segment or segment.startswith("{") or not name:
        return Match.NONE
    joined = f"{singular(snake(parent))}_{snake(segment)}" if parent else ""
    if names_match(segment, name) or (joined and names_match(joined, name)):
        return Match.EXACT
    if singular(snake(segment)) == snake(segment):
        return Match.NONE  # loosely, only a collection's plural name: not /testConfiguration
    base = variant_base(name)
    if base_names(segment, parent, name):
        return Match.LOOSE  # EpisodeFull at /episodes
    words = base.split("_")
    if any(names_match(segment, "_".join(words[k:])) for k in range(1, len(words))):
        return Match.LOOSE  # ADGroup at /groups
    stem = _key_stem(param)
    if stem and names_match(stem, base) and names_match(segment, words[0]):
        return Match.LOOSE  # TaxRate at /taxes/{taxRateUuid}
    return Match.NONE


def base_names(segment: str, parent: str, name: str) -> bool:
    """Whether the segment (or it joined to its parent) names the schema's variant base:
    `episodes` ~ `EpisodeFull`, `versions` under `apis` ~ `ApiVersionResponse`."""
    base = variant_base(name)
    joined = f"{singular(snake(parent))}_{snake(segment)}" if parent else ""
    return names_match(segment, base) or bool(joined and names_match(joined, base))


def has_identifier(schema: dict[str, Any]) -> bool:
    """Whether an object schema has a member that identifies its rows: `id`, `uuid`,
    `objectId`, `episode_id`..."""
    for name in schema.get("properties") or {}:
        words = snake(name).split("_")
        if words[-1] in KEY_WORDS:
            return True
    return False


def _key_stem(param: str) -> str:
    """`taxRateUuid` -> `tax_rate`: what a key parameter's name says it is the key of."""
    words = snake(param.strip("{}")).split("_")
    return "_".join(words[:-1]) if len(words) > 1 and words[-1] in KEY_WORDS else ""


def last_segment(segments: list[str]) -> tuple[str, str, str]:
    """(segment, parent, item parameter) that name what a path serves: the last static
    segment, the static one before it, and the parameter right after it (if last)."""
    statics = [s for s in segments if not s.startswith("{")]
    if not statics:
        return "", "", ""
    param = segments[-1] if len(segments) > 1 and segments[-2] == statics[-1] else ""
    param = param if param.startswith("{") else ""
    return statics[-1], statics[-2] if len(statics) > 1 else "", param
