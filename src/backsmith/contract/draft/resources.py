"""Group endpoints into resources: a collection, its items, and the rows they carry.

`/conversations` with `/conversations/{id}` is one resource; `/conversations/{id}/messages`
is a resource nested under it; `POST /class/create` beside `/class/{classId}` is the
create of `class`. A resource's row is every example and field the spec shows of it (an
item's answer, a list's rows, a create's body), and its key is `id`, or `<name>Id`, or
the item path's parameter, kept as an integer or a UUID as the examples show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from backsmith.contract.draft.details import Details
from backsmith.contract.draft.endpoints import Endpoint
from backsmith.contract.draft.rows import Place, at_place, row_place
from backsmith.contract.draft.sketch import SketchObject
from backsmith.model.naming import plural, singular, snake

# A last segment that says "make one" of its parent collection (`POST /class/create`).
_CREATE_VERBS = frozenset({"create", "new", "add", "record", "send", "submit", "post"})
_PARAM = re.compile(r"^\{(\w+)\}$")


@dataclass(slots=True)
class Resource:
    """One drafted table: its names, paths, key and the examples of its rows."""

    name: str  # singular snake_case: `sku_supplier`
    collection: str
    items: set[str] = field(default_factory=set)
    key: str = ""  # the row's key property as written (`id`, `classId`)
    rows: list[tuple[dict[str, Any], int]] = field(default_factory=list)  # example, line
    writes: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    parent: str = ""  # the resource this one is nested under
    parent_param: str = ""
    guesses: list[str] = field(default_factory=list)

    @property
    def table(self) -> str:
        return plural(self.name)

    @property
    def schema(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_"))


@dataclass(frozen=True, slots=True)
class Binding:
    """How one endpoint works on a resource: its kind, and where rows sit in its answers."""

    resource: str
    kind: str  # list, create, read, replace, update, delete
    places: dict[str, Place]  # status -> place of the row(s) in that answer's example
    declared: bool = False  # the kind is a guess the contract must state


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _role(endpoint: Endpoint) -> tuple[str, str, bool] | None:
    """(collection path, kind, declared) of an endpoint, when its path is a collection or
    an item of one."""
    segments = _segments(endpoint.path)
    if not segments:
        return None
    last = segments[-1]
    method = endpoint.method
    if _PARAM.match(last):
        if len(segments) < 2 or _PARAM.match(segments[-2]):
            return None
        kinds = {"GET": "read", "PUT": "replace", "PATCH": "update", "DELETE": "delete"}
        collection = "/" + "/".join(segments[:-1])
        return (collection, kinds[method], False) if method in kinds else None
    verb = method == "POST" and last.lower() in _CREATE_VERBS
    if verb and len(segments) > 1 and not _PARAM.match(segments[-2]):
        return "/" + "/".join(segments[:-1]), "create", True
    kinds = {"GET": "list", "POST": "create"}
    return (endpoint.path, kinds[method], False) if method in kinds else None


@dataclass(slots=True)
class _Candidate:
    """A collection path with its endpoints, and the rows and bodies they show."""

    name: str
    collection: str
    members: list[tuple[int, str, bool]]  # endpoint index, kind, declared
    places: dict[int, dict[str, Place]] = field(default_factory=dict)
    examples: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    writes: list[tuple[dict[str, Any], int]] = field(default_factory=list)

    @property
    def kinds(self) -> set[str]:
        return {kind for _, kind, _ in self.members}

    @property
    def served(self) -> bool:
        """Whether the paths serve a table: an item path, a list and a create, a create its
        path's last word declares, or a list of rows under a plural name."""
        kinds = self.kinds
        listed = any(self.places.get(i) for i, kind, _ in self.members if kind == "list")
        last = snake(_last(self.collection))
        return (
            bool(kinds & {"read", "replace", "update", "delete"})
            or any(declared for _, _, declared in self.members)
            or {"list", "create"} <= kinds
            or (listed and singular(last) != last)
        )


def group(found: list[tuple[Endpoint, Details]]) -> tuple[list[Resource], dict[int, Binding]]:
    """The resources the endpoints describe, and how each endpoint binds to one."""
    by_collection: dict[str, list[tuple[int, str, bool]]] = {}
    for index, (endpoint, _) in enumerate(found):
        role = _role(endpoint)
        if role is not None:
            by_collection.setdefault(role[0], []).append((index, role[1], role[2]))
    candidates = [
        _candidate(collection, members, found) for collection, members in by_collection.items()
    ]
    _link_names(candidates)
    resources: dict[str, Resource] = {}
    bindings: dict[int, Binding] = {}
    # Collections showing rows first; then those that show none join a table of their name
    # (`PUT /skus/{id}` beside `/spus/{spuId}/skus`).
    for candidate in candidates:
        if candidate.name and candidate.served and (candidate.examples or candidate.writes):
            _bind(candidate, found, resources, bindings)
    for candidate in candidates:
        if (
            candidate.name in resources
            and candidate.served
            and candidate.members[0][0] not in bindings
        ):
            _bind(candidate, found, resources, bindings)
    for resource in resources.values():
        _nest(resource, resources)
        resource.key = _key(resource)
    return list(resources.values()), bindings


def _candidate(
    collection: str, members: list[tuple[int, str, bool]], found: list[tuple[Endpoint, Details]]
) -> _Candidate:
    candidate = _Candidate(_name(collection), collection, members)
    for index, kind, _ in members:
        details = found[index][1]
        candidate.places[index] = {}
        for status, answer in details.answers.items():
            if answer.body is None or answer.body.sketch is None or status[:1] in "45":
                continue
            value = answer.body.sketch.value
            place = row_place(value, kind == "list")
            row = at_place(value, place) if place is not None else None
            if isinstance(row, dict) and place is not None:
                candidate.places[index][status] = place
                if row:
                    candidate.examples.append((row, answer.body.line))
        if kind in ("create", "replace") and details.request and details.request.sketch:
            body = details.request.sketch.value
            if isinstance(body, dict) and body:
                candidate.writes.append((body, details.request.line))
    return candidate


def _link_names(candidates: list[_Candidate]) -> None:
    """`/skus/{skuId}/suppliers` whose rows carry a `supplier_id` that the rows of
    `/suppliers` do not are not suppliers but a sku's links to them: `sku_supplier`."""
    for candidate in candidates:
        segments = _segments(candidate.collection)
        if len(segments) < 3 or not _PARAM.match(segments[-2]):
            continue
        reference = f"{candidate.name}_id"
        rows = [row for row, _ in candidate.examples + candidate.writes]
        if not any(snake(key) == reference for row in rows for key in row):
            continue
        others = [c for c in candidates if c.name == candidate.name and c is not candidate]
        theirs = [row for c in others for row, _ in c.examples + c.writes]
        if theirs and not any(snake(key) == reference for row in theirs for key in row):
            candidate.name = f"{_name('/' + '/'.join(segments[:-2]))}_{candidate.name}"


def _bind(
    candidate: _Candidate,
    found: list[tuple[Endpoint, Details]],
    resources: dict[str, Resource],
    bindings: dict[int, Binding],
) -> None:
    name = candidate.name
    resource = resources.setdefault(name, Resource(name, candidate.collection))
    resource.rows.extend(candidate.examples)
    resource.writes.extend(candidate.writes)
    for index, kind, declared in candidate.members:
        if kind not in ("list", "create"):
            resource.items.add(found[index][0].path)
        bindings[index] = Binding(name, kind, candidate.places[index], declared)


def _last(path: str) -> str:
    literal = [s for s in _segments(path) if not _PARAM.match(s)]
    return literal[-1] if literal else ""


def _name(collection: str) -> str:
    last = _last(collection)
    return singular(snake(last)) if last else ""


def _nest(resource: Resource, resources: dict[str, Resource]) -> None:
    segments = _segments(resource.collection)
    if len(segments) < 3 or not _PARAM.match(segments[-2]):
        return
    parent = _name("/" + "/".join(segments[:-2]))
    if parent in resources and parent != resource.name:
        resource.parent = parent
        resource.parent_param = _PARAM.match(segments[-2])[1]  # type: ignore[index]


def _key(resource: Resource) -> str:
    """The row's key: `id`, `<name>Id`, or the parameter the item path names."""
    names: dict[str, None] = {}
    for row, _ in resource.rows:
        names.update(dict.fromkeys(row))
    item_params = [
        match[1] for item in sorted(resource.items) if (match := _PARAM.match(_segments(item)[-1]))
    ]
    wanted = ["id", "_id", f"{_camel(resource.name)}Id", f"{resource.name}_id", *item_params]
    for name in wanted:
        if name in names:
            return name
    params = [p for p in item_params if p != "id"]
    if params:
        resource.guesses.append(f"{resource.table}: keyed by `{params[0]}`, the path's parameter")
        return params[0]
    resource.guesses.append(f"{resource.table}: no key in the examples, an `id` is added")
    return "id"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def rows_of(resource: Resource) -> list[dict[str, Any]]:
    """Every example of the resource's rows, the write bodies' fields included."""
    rows = [row for row, _ in resource.rows] + [body for body, _ in resource.writes]
    return [row for row in rows if isinstance(row, SketchObject | dict)]
