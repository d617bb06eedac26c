"""Name conventions: snake_case columns, plural tables, loose matching of path segments."""

from __future__ import annotations

import functools
import re

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_IRREGULAR = {"person": "people", "child": "children", "man": "men", "woman": "women"}


@functools.lru_cache(maxsize=8192)  # model building asks for the same few names many times
def snake(name: str) -> str:
    """`OrderLine` -> `order_line`, `createdAt` -> `created_at`, `per-page` -> `per_page`."""
    return re.sub(r"[^0-9a-zA-Z]+", "_", _CAMEL.sub("_", name)).strip("_").lower()


def plural(word: str) -> str:
    """English plural of the last word of a snake_case name."""
    head, _, last = word.rpartition("_")
    prefix = f"{head}_" if head else ""
    if last in _IRREGULAR:
        return prefix + _IRREGULAR[last]
    if last.endswith(("s", "x", "z", "ch", "sh")):
        return f"{prefix}{last}es"
    if last.endswith("y") and len(last) > 1 and last[-2] not in "aeiou":
        return f"{prefix}{last[:-1]}ies"
    return f"{prefix}{last}s"


@functools.lru_cache(maxsize=8192)
def singular(word: str) -> str:
    """English singular of the last word of a snake_case name."""
    for one, many in _IRREGULAR.items():
        if word.endswith(many):
            return word[: -len(many)] + one
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def squash(name: str) -> str:
    """Lower-case letters and digits only, for loose comparisons."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


@functools.lru_cache(maxsize=8192)
def names_match(segment: str, resource: str) -> bool:
    """Whether a path segment names a resource: `book`, `books`, `order-lines` ~ `order_lines`."""
    seg = snake(segment)
    res = snake(resource)
    candidates = {res, singular(res), plural(res)}
    return squash(seg) in {squash(c) for c in candidates} or squash(singular(seg)) in {
        squash(c) for c in candidates
    }


_AFFIXES = ("Create", "Update", "Patch", "Input", "Request", "Body", "Payload", "Dto", "Data")


def strip_affixes(name: str) -> str:
    """`BookCreate`, `NewBook`, `BookPatch` -> `Book`: the schema a variant is of."""
    for prefix in ("New", "Create", "Update", "Patch"):
        if name.startswith(prefix) and len(name) > len(prefix) and name[len(prefix)].isupper():
            name = name[len(prefix) :]
    changed = True
    while changed:
        changed = False
        for suffix in _AFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                name, changed = name[: -len(suffix)], True
    return name


# Words a schema's name may end with that say which view of the rows it is, not what the
# rows are: `EpisodeFull`, `PodcastSimple`, `app_response`, `OrderDetail` are episodes,
# podcasts, apps and orders.
_VARIANT_WORDS = frozenset(
    {"full", "simple", "minimum", "summary", "detail", "details", "response"}
)
_AFFIX_WORDS = frozenset(snake(a) for a in _AFFIXES)
# Words that say "the key of" whatever the rest of a parameter's name names (`{taxRateUuid}`).
KEY_WORDS = frozenset({"id", "uid", "uuid", "pk", "key", "identifier"})
_PREFIX_WORDS = frozenset({"new", "create", "update", "patch"})


def variant_base(name: str) -> str:
    """The snake_case name a schema variant is of: `EpisodeFull`, `NewBook`, `book_response`
    -> `episode`, `book`, `book`; a name that is nothing but such words stays whole."""
    words = [w for w in snake(name).split("_") if w]
    while len(words) > 1 and words[0] in _PREFIX_WORDS:
        words = words[1:]
    while len(words) > 1 and words[-1] in _VARIANT_WORDS | _AFFIX_WORDS:
        words = words[:-1]
    return "_".join(words)


# Words only a view's name ends with (a `Summary` is as often rows of its own: OrderSummary).
_VIEW_WORDS = frozenset({"full", "simple", "minimum"})


def view_base(name: str) -> str:
    """`PodcastSimple` -> `podcast`: a name less the words only a view's name ends with."""
    words = [w for w in snake(name).split("_") if w]
    while len(words) > 1 and words[-1] in _VIEW_WORDS:
        words = words[:-1]
    return "_".join(words)


def paging_name(key: str) -> str:
    """The snake_case name of an envelope member, OData's `odata.`/`@odata.` prefix left
    off: `@odata.nextLink` -> `next_link`, `odata.count` -> `count`."""
    name = snake(key)
    return name.removeprefix("odata_") if name != "odata" else name


def variant_table(name: str, tables_by_schema: dict[str, str]) -> str | None:
    """The one table the schemas sharing `name`'s variant base are stored in, if any."""
    base = variant_base(name)
    found = {t for schema, t in tables_by_schema.items() if variant_base(schema) == base}
    return found.pop() if len(found) == 1 else None
