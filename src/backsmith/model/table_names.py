"""The table each chosen schema is stored in, when there is no DBML to say."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from backsmith.model.naming import snake, variant_base, view_base
from backsmith.model.resources import table_name_for
from backsmith.model.segments import Match, segment_match


def table_names(
    chosen: list[str],
    schemas: Mapping[str, dict[str, Any]],
    declared: Mapping[str, str | None],
    by_base: set[str],
    places: Iterable[tuple[str, str, str]],
) -> dict[str, str]:
    """Schema -> table for every chosen schema (views are added by the caller).

    A declared table wins; a schema a path names outright (`OrderSummary` at
    `/order-summaries`) is its own table; the variants of a name a path named by its base
    (`EpisodeFull`, `EpisodeSimple` beside `/episodes`) and views (`PodcastSimple`) share
    the base's table. Schemas that would share a table without one's properties holding the
    other's (`Order` and an `OrderSummary` of daily sums) keep tables of their own names.
    """
    places = [where for where in places if where[0]]
    named = {n for n in chosen if any(segment_match(*w, n) == Match.EXACT for w in places)}
    bases = {variant_base(n) for n in by_base}
    tables: dict[str, str] = {}
    for name in chosen:
        own = declared.get(name)
        if own:
            tables[name] = own
        elif name in named and name not in by_base:
            tables[name] = table_name_for(name)
        elif variant_base(name) in bases:
            tables[name] = table_name_for(variant_base(name))
        else:  # CuratedListSimple is `curated_lists`
            tables[name] = table_name_for(view_base(name))
    by_table: dict[str, list[str]] = {}
    for name, table in tables.items():
        by_table.setdefault(table, []).append(name)
    for sharing in by_table.values():
        if len(sharing) < 2:
            continue
        widest = max(sharing, key=lambda n: len(_properties(schemas[n])))
        for name in sharing:
            if declared.get(name) or _properties(schemas[name]) <= _properties(schemas[widest]):
                continue
            tables[name] = table_name_for(name)  # its own rows, not a view of the others
    return tables


def _properties(schema: dict[str, Any]) -> frozenset[str]:
    return frozenset(snake(n) for n in schema.get("properties") or {})
