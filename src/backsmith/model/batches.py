"""Operations over several rows at once, and item paths known by the list beside them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backsmith.model.envelopes import json_answer, list_envelope
from backsmith.model.schemas import component_name, flatten, schema_types
from backsmith.model.types import Kind, Resource

if TYPE_CHECKING:  # operations.py imports this module
    from backsmith.model.operations import OperationMapper

_ONE_ROW = (Kind.CREATE, Kind.REPLACE, Kind.UPDATE, Kind.DELETE, Kind.READ)


def batch_reason(
    document: dict[str, Any], kind: Kind, answer: Any, body: Any, resource: Resource
) -> str | None:
    """Why a write or read of one row, or a list, is none: its body or answer is a page of
    rows (`POST /episodes` answering `{episodes: [...]}`) or a list holds pages (`GET /taxes`
    answering an array of `{taxRates: [...]}`); None where it carries rows as its kind says."""
    if kind not in _ONE_ROW and kind != Kind.LIST:
        return None
    flat = flatten(document, answer) if answer is not None else {}
    if kind == Kind.LIST and "array" in schema_types(flat):
        if list_envelope(document, flat.get("items")) is not None:
            return f"answers an array of pages of {resource.table}, not an array of rows"
        return None
    if kind == Kind.LIST:
        return None
    for schema, what in ((answer, "answers"), (body, "takes")):
        if schema is not None and component_name(schema) and several_rows(document, schema):
            return f"{what} several {resource.table} rows at once, not one"
    return None


def several_rows(document: dict[str, Any], schema: Any) -> bool:
    """A page of rows, or an object of nothing but lists of rows (`{podcasts: [...],
    latest_episodes: [...]}`)."""
    if list_envelope(document, schema) is not None:
        return True
    properties = flatten(document, schema).get("properties") or {}
    return bool(properties) and all(
        "array" in schema_types(member := flatten(document, value))
        and bool(flatten(document, member.get("items")).get("properties"))
        for value in properties.values()
    )


def unrowed_reason(mapper: OperationMapper, answer: Any, body: Any, is_list: bool) -> str | None:
    """Why an operation with no resource is none, where its answer or body is a page of
    some table's rows (`GET /taxes` answering `[{taxRates: [...]}]`, `POST /taxes` taking
    `{taxRates: [...]}`): a batch, which needs a handler."""
    document = mapper.document
    for schema in (answer, body):
        flat = flatten(document, schema) if schema is not None else {}
        inner = flat.get("items") if "array" in schema_types(flat) else schema
        key = list_envelope(document, inner) if inner is not None else None
        if key is None:
            continue
        rows = flatten(document, inner)["properties"][key].get("items")
        table = mapper.schema_resources.get(component_name(rows) or "")
        if table is None:
            continue
        if inner is not schema:
            return f"answers an array of pages of {table}, not an array of rows"
        if schema is answer and is_list:
            return None  # a list of them is a list
        what = "answers" if schema is answer else "takes"
        return f"{what} several {table} rows at once, not one"
    return None


def listed_at(mapper: OperationMapper, path: str, resource: Resource) -> bool:
    """Whether a GET on the collection path `path` lists rows of `resource`: its item path
    (`/curated_podcasts/{id}` beside `/curated_podcasts`) then serves them too."""
    path, item = mapper.path_item(path)  # `/tiles` may be written `/tiles.json`
    op = item.get("get") if item is not None else None
    if item is None or not isinstance(op, dict):
        return False
    if mapper.resource_of(path, "get", item, op) is not resource:
        return False
    _, _, schema = json_answer(mapper.document, op.get("responses"))
    return schema is not None and mapper.shape_of(schema).is_list
