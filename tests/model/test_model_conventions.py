"""How conventions map small contracts to resources, fields and CRUD operations (no HTTP).

Each test writes an inline contract to tmp_path and loads it with `backsmith.api.load_model`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SHARED, needs_shared

from backsmith.api import load_model
from backsmith.errors import ContractError
from backsmith.model.types import FieldType, Generated, Kind, Model, Operation, ParamRole


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _returns(schema: dict[str, Any], status: str = "200") -> dict[str, Any]:
    content = {"application/json": {"schema": schema}}
    return {"responses": {status: {"description": "ok", "content": content}}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _query(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema or {"type": "string"}}


def _path_param(name: str, kind: str = "integer") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def _crud(name: str, key: str = "integer") -> dict[str, Any]:
    """Collection and item paths with every CRUD method for schema `name`."""
    item = _ref(name)
    return {
        "collection": {
            "get": {"operationId": "list", **_returns({"type": "array", "items": item})},
            "post": {"operationId": "create", "requestBody": _body(item), **_returns(item, "201")},
        },
        "item": {
            "parameters": [_path_param("id", key)],
            "get": {"operationId": "read", **_returns(item)},
            "put": {"operationId": "replace", "requestBody": _body(item), **_returns(item)},
            "patch": {"operationId": "update", "requestBody": _body(item), **_returns(item)},
            "delete": {"operationId": "delete", "responses": {"204": {"description": "gone"}}},
        },
    }


THING = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "name": {"type": "string"},
        "colour": {"type": "string"},
        "size": {"type": "integer"},
        "meta": {"type": "object"},
    },
}


def _model(tmp_path: Path, paths: dict[str, Any], schemas: dict[str, Any], **root: Any) -> Model:
    document = {
        "openapi": "3.1.0",
        "info": {"title": "conventions", "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": schemas},
        **root,
    }
    path = tmp_path / "api.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return load_model(path)


def _ops(model: Model) -> dict[tuple[str, str], Operation]:
    return {(op.method, op.path): op for op in model.operations}


def _roles(op: Operation) -> dict[str, tuple[str, str | None]]:
    return {p.name: (p.role, p.column) for p in op.params}


# ------------------------------------------------------------------ CRUD kinds
def test_collection_and_item_paths_map_to_the_six_crud_kinds(tmp_path: Path) -> None:
    crud = _crud("Thing")
    model = _model(
        tmp_path, {"/things": crud["collection"], "/things/{id}": crud["item"]}, {"Thing": THING}
    )
    assert set(model.resources) == {"things"}
    assert model.resources["things"].table == "things"
    assert model.resources["things"].schema == "Thing"
    kinds = {(op.method, op.path): (op.kind, op.resource) for op in model.operations}
    assert kinds == {
        ("GET", "/things"): (Kind.LIST, "things"),
        ("POST", "/things"): (Kind.CREATE, "things"),
        ("GET", "/things/{id}"): (Kind.READ, "things"),
        ("PUT", "/things/{id}"): (Kind.REPLACE, "things"),
        ("PATCH", "/things/{id}"): (Kind.UPDATE, "things"),
        ("DELETE", "/things/{id}"): (Kind.DELETE, "things"),
    }
    ops = _ops(model)
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        assert _roles(ops[(method, "/things/{id}")]) == {"id": ("key", "id")}
    assert ops[("POST", "/things")].response is not None
    assert ops[("POST", "/things")].response.status == 201
    assert ops[("DELETE", "/things/{id}")].response is not None
    assert ops[("DELETE", "/things/{id}")].response.status == 204
    assert ops[("GET", "/things")].response is not None
    assert ops[("GET", "/things")].response.envelope.items is None  # a bare array


def test_a_nested_collection_is_scoped_by_the_child_foreign_key(tmp_path: Path) -> None:
    parent = {
        "type": "object",
        "properties": {"id": {"type": "integer", "readOnly": True}, "name": {"type": "string"}},
    }
    child = {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "parent_id": {"type": "integer"},
            "label": {"type": "string"},
        },
    }
    crud = _crud("Parent")
    nested_item = {
        "parameters": [_path_param("pid"), _path_param("cid")],
        "get": {"operationId": "getChild", **_returns(_ref("Child"))},
        "delete": {"operationId": "deleteChild", "responses": {"204": {"description": "gone"}}},
    }
    model = _model(
        tmp_path,
        {
            "/parents": crud["collection"],
            "/parents/{id}": crud["item"],
            "/parents/{pid}/children": {
                "parameters": [_path_param("pid")],
                "get": {
                    "operationId": "listChildren",
                    **_returns({"type": "array", "items": _ref("Child")}),
                },
                "post": {
                    "operationId": "createChild",
                    "requestBody": _body(_ref("Child")),
                    **_returns(_ref("Child"), "201"),
                },
            },
            "/parents/{pid}/children/{cid}": nested_item,
        },
        {"Parent": parent, "Child": child},
    )
    assert set(model.resources) == {"parents", "children"}
    relations = model.resources["children"].relations
    assert [(r.columns, r.target, r.target_columns) for r in relations] == [
        (("parent_id",), "parents", ("id",))
    ]
    ops = _ops(model)
    listing = ops[("GET", "/parents/{pid}/children")]
    assert (listing.kind, listing.resource) == (Kind.LIST, "children")
    assert _roles(listing) == {"pid": ("scope", "parent_id")}
    creating = ops[("POST", "/parents/{pid}/children")]
    assert (creating.kind, creating.resource) == (Kind.CREATE, "children")
    assert _roles(creating) == {"pid": ("scope", "parent_id")}
    reading = ops[("GET", "/parents/{pid}/children/{cid}")]
    assert (reading.kind, reading.resource) == (Kind.READ, "children")
    assert _roles(reading) == {"pid": ("scope", "parent_id"), "cid": ("key", "id")}
    assert ops[("DELETE", "/parents/{pid}/children/{cid}")].kind == Kind.DELETE
    # The parent's own item path is not confused with the nested one.
    assert ops[("GET", "/parents/{id}")].resource == "parents"


# ------------------------------------------------------------------ query roles
def _list_op(parameters: list[dict[str, Any]], response: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"parameters": parameters, **_returns(response)}}


def test_query_parameters_get_filter_pagination_and_sort_roles(tmp_path: Path) -> None:
    page = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref("Thing")},
            "next_cursor": {"type": ["string", "null"]},
        },
    }
    numbered = {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": _ref("Thing")},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
        },
    }
    array = {"type": "array", "items": _ref("Thing")}
    integer = {"type": "integer"}
    model = _model(
        tmp_path,
        {
            "/things": _list_op(
                [
                    _query("colour"),
                    _query("size", integer),
                    _query("limit", integer),
                    _query("cursor"),
                    _query("sort"),
                    _query("verbose"),
                ],
                page,
            ),
            "/numbered/things": _list_op(
                [_query("page", integer), _query("per_page", integer), _query("colour")], numbered
            ),
            "/offset/things": _list_op(
                [_query("offset", integer), _query("limit", integer), _query("order_by")], array
            ),
        },
        {"Thing": THING, "ThingPage": page, "NumberedThings": numbered},
    )
    ops = _ops(model)
    cursor = ops[("GET", "/things")]
    assert (cursor.kind, cursor.resource) == (Kind.LIST, "things")
    assert _roles(cursor) == {
        "colour": ("filter", "colour"),
        "size": ("filter", "size"),
        "limit": ("limit", None),
        "cursor": ("cursor", None),
        "sort": ("sort", None),
        "verbose": ("other", None),
    }
    assert cursor.pagination == "cursor"
    assert cursor.response is not None
    assert cursor.response.envelope.items == "items"
    assert cursor.response.envelope.cursor == "next_cursor"

    numbered_op = ops[("GET", "/numbered/things")]
    assert (numbered_op.kind, numbered_op.resource) == (Kind.LIST, "things")
    assert _roles(numbered_op) == {
        "page": ("page", None),
        "per_page": ("limit", None),
        "colour": ("filter", "colour"),
    }
    assert numbered_op.pagination == "page"
    assert numbered_op.response is not None
    envelope = numbered_op.response.envelope
    assert (envelope.items, envelope.total, envelope.page, envelope.limit) == (
        "data",
        "total",
        "page",
        "per_page",
    )

    offset = ops[("GET", "/offset/things")]
    assert _roles(offset) == {
        "offset": ("offset", None),
        "limit": ("limit", None),
        "order_by": ("sort", None),
    }
    assert offset.pagination == "offset"


def test_a_filter_on_a_json_field_is_refused_alone(tmp_path: Path) -> None:
    model = _model(
        tmp_path,
        {"/things": _list_op([_query("meta")], {"type": "array", "items": _ref("Thing")})},
        {"Thing": THING},
    )
    (op,) = model.operations
    # The list is served; only the parameter is refused (it made the whole list custom).
    assert op.kind == Kind.LIST and op.resource == "things"
    (meta,) = op.params
    assert meta.role == ParamRole.REFUSED and "json" in meta.reason


# ------------------------------------------------------------------ resources
def test_a_path_under_another_prefix_maps_by_its_schema(tmp_path: Path) -> None:
    book = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid", "readOnly": True},
            "title": {"type": "string"},
        },
    }
    model = _model(
        tmp_path,
        {
            "/admin/books": {"get": _returns({"type": "array", "items": _ref("Book")})},
            "/admin/books/{id}": {
                "parameters": [_path_param("id", "string")],
                "get": _returns(_ref("Book")),
            },
        },
        {"Book": book},
    )
    assert set(model.resources) == {"books"}
    ops = _ops(model)
    assert (ops[("GET", "/admin/books")].kind, ops[("GET", "/admin/books")].resource) == (
        Kind.LIST,
        "books",
    )
    reading = ops[("GET", "/admin/books/{id}")]
    assert (reading.kind, reading.resource) == (Kind.READ, "books")
    assert ops[("GET", "/admin/books")].operation_id  # an id is made up when none is declared


def test_x_backsmith_resource_on_an_operation_overrides_conventions(tmp_path: Path) -> None:
    book = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "title": {"type": "string"}},
    }
    anonymous = {"type": "array", "items": {"type": "object"}}
    paths = {
        "/books": {"get": _returns({"type": "array", "items": _ref("Book")})},
        "/catalogue/entries": {"get": {"operationId": "entries", **_returns(anonymous)}},
    }
    plain = _model(tmp_path, paths, {"Book": book})
    assert _ops(plain)[("GET", "/catalogue/entries")].kind == Kind.CUSTOM

    paths["/catalogue/entries"]["get"]["x-backsmith"] = {"resource": "books"}
    declared = _model(tmp_path, paths, {"Book": book})
    entries = _ops(declared)[("GET", "/catalogue/entries")]
    assert (entries.kind, entries.resource) == (Kind.LIST, "books")


def test_x_backsmith_table_on_a_schema_names_the_table(tmp_path: Path) -> None:
    book = {
        "type": "object",
        "x-backsmith": {"table": "volumes"},
        "properties": {"id": {"type": "integer", "readOnly": True}, "title": {"type": "string"}},
    }
    crud = _crud("Book")
    model = _model(
        tmp_path, {"/books": crud["collection"], "/books/{id}": crud["item"]}, {"Book": book}
    )
    assert set(model.resources) == {"volumes"}
    assert model.resources["volumes"].table == "volumes"
    assert model.resources["volumes"].schema == "Book"
    assert {op.kind for op in model.operations} == {
        Kind.LIST,
        Kind.CREATE,
        Kind.READ,
        Kind.REPLACE,
        Kind.UPDATE,
        Kind.DELETE,
    }
    assert {op.resource for op in model.operations} == {"volumes"}


def test_an_unknown_x_backsmith_key_is_a_contract_error(tmp_path: Path) -> None:
    book = {"type": "object", "x-backsmith": {"tabel": "volumes"}, "properties": {"id": {}}}
    with pytest.raises(ContractError, match="did you mean 'table'"):
        _model(tmp_path, {"/books": {"get": _returns(_ref("Book"))}}, {"Book": book})


# ------------------------------------------------------------------ custom operations
def test_non_crud_operations_are_custom_with_a_reason(tmp_path: Path) -> None:
    crud = _crud("Thing")
    stats = {"type": "object", "properties": {"count": {"type": "integer"}}}
    model = _model(
        tmp_path,
        {
            "/things": crud["collection"],
            "/things/{id}": {
                **crud["item"],
                "post": {"operationId": "poke", **_returns(_ref("Thing"))},
            },
            "/things/{id}/archive": {
                "parameters": [_path_param("id")],
                "post": {"operationId": "archive", **_returns(_ref("Thing"))},
            },
            "/things/{id}/publish": {
                "parameters": [_path_param("id")],
                "post": {
                    "operationId": "publish",
                    "x-backsmith": {"kind": "custom"},
                    **_returns(_ref("Thing")),
                },
            },
            "/stats": {"get": {"operationId": "stats", **_returns(stats)}},
            "/bulk/things": {
                "post": {
                    "operationId": "batch",
                    "requestBody": _body({"type": "array", "items": _ref("Thing")}),
                    **_returns({"type": "array", "items": _ref("Thing")}),
                }
            },
        },
        {"Thing": THING},
    )
    by_id = {op.operation_id: op for op in model.operations}
    expected = {
        "poke": "POST on an item path",
        "archive": "is not a collection or item path of things",
        "publish": "declared custom",
        "stats": "one object, not a collection (a singleton)",
        "batch": "creates several items at once",
    }
    for operation_id, reason in expected.items():
        op = by_id[operation_id]
        assert op.kind == Kind.CUSTOM, operation_id
        assert reason in op.reason, (operation_id, op.reason)
    assert {by_id[name].kind for name in ("list", "create", "read", "delete")} == {
        Kind.LIST,
        Kind.CREATE,
        Kind.READ,
        Kind.DELETE,
    }


# ------------------------------------------------------------------ fields
def test_inferred_fields(tmp_path: Path) -> None:
    gadget = {
        "type": "object",
        "required": ["id", "name", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "string", "format": "uuid", "readOnly": True},
            "name": {"type": "string", "maxLength": 80},
            "secret": {"type": "string", "writeOnly": True},
            "score": {"type": "integer", "format": "int64"},
            "price": {"type": "number", "format": "decimal"},
            "ratio": {"type": "number"},
            "status": {"type": "string", "enum": ["on", "off"], "default": "on"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "seen_on": {"type": "string", "format": "date"},
            "created_at": {"type": "string", "format": "date-time", "readOnly": True},
            "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
        },
    }
    note = {"type": "object", "properties": {"text": {"type": "string"}}}
    counter = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "n": {"type": "integer"}},
    }
    crud = _crud("Gadget", key="string")
    model = _model(
        tmp_path,
        {
            "/gadgets": crud["collection"],
            "/gadgets/{id}": crud["item"],
            "/notes": {"get": _returns({"type": "array", "items": _ref("Note")})},
            "/counters": {"get": _returns({"type": "array", "items": _ref("Counter")})},
        },
        {"Gadget": gadget, "Note": note, "Counter": counter},
    )
    gadgets = model.resources["gadgets"]
    fields = {f.name: f for f in gadgets.fields}
    assert gadgets.primary_key == ("id",)
    assert fields["id"].primary_key and fields["id"].type == FieldType.UUID
    assert fields["id"].generated == Generated.UUID7 and fields["id"].read_only
    assert fields["created_at"].generated == Generated.CREATED and fields["created_at"].read_only
    assert fields["updated_at"].generated == Generated.UPDATED and fields["updated_at"].read_only
    assert fields["created_at"].type == FieldType.DATETIME
    assert not fields["name"].read_only and fields["name"].generated is None
    assert fields["name"].max_length == 80 and not fields["name"].nullable
    assert fields["secret"].write_only
    assert fields["score"].type == FieldType.INTEGER and fields["score"].big
    assert fields["price"].type == FieldType.DECIMAL
    assert fields["ratio"].type == FieldType.NUMBER
    assert fields["status"].type == FieldType.ENUM and fields["status"].enum == ("on", "off")
    assert fields["status"].default == "on" and not fields["status"].nullable
    assert fields["tags"].type == FieldType.ARRAY and fields["tags"].item_type == FieldType.STRING
    assert fields["seen_on"].type == FieldType.DATE and fields["seen_on"].nullable
    assert {f.name for f in gadgets.fields if f.server_set} == {"id", "created_at", "updated_at"}

    # Without an id the table gets a hidden surrogate key; an integer id auto-increments.
    notes = model.resources["notes"]
    assert notes.primary_key == ("id",) and notes.key.hidden
    assert notes.key.generated == Generated.AUTOINCREMENT
    counters = model.resources["counters"]
    assert counters.key.generated == Generated.AUTOINCREMENT and not counters.key.hidden

    listing = _ops(model)[("GET", "/gadgets")]
    assert listing.default_sort == ("-created_at", "-id")  # newest first, by the created field
    assert _ops(model)[("GET", "/counters")].default_sort == ("id",)


# ------------------------------------------------------------------ the bench contract
@needs_shared
def test_the_bench_contract_maps_its_four_operations_onto_products() -> None:
    workload = SHARED / "bench" / "workload"
    model = load_model(workload / "api.yaml", workload / "schema.dbml")
    assert set(model.resources) == {"products"}
    products = model.resources["products"]
    assert products.source == "dbml" and products.schema == "Product"
    kinds = {op.operation_id: (op.kind, op.resource) for op in model.operations}
    assert kinds == {
        "listProducts": (Kind.LIST, "products"),
        "createProduct": (Kind.CREATE, "products"),
        "getProduct": (Kind.READ, "products"),
        "updateProduct": (Kind.UPDATE, "products"),
    }
    ops = {op.operation_id: op for op in model.operations}
    assert _roles(ops["listProducts"]) == {
        "category": ("filter", "category"),
        "limit": ("limit", None),
        "cursor": ("cursor", None),
    }
    assert ops["listProducts"].default_sort == ("-created_at", "-id")
    assert ops["listProducts"].response is not None
    assert ops["listProducts"].response.envelope.cursor == "next_cursor"
    assert _roles(ops["getProduct"]) == {"id": ("key", "id")}
    fields = {f.name: f for f in products.fields}
    assert fields["id"].generated == Generated.UUID7
    assert fields["created_at"].generated == Generated.CREATED
    assert fields["updated_at"].generated == Generated.UPDATED
    assert fields["tags"].type == FieldType.ARRAY and fields["tags"].pg_array
    assert fields["sku"].unique and fields["sku"].max_length == 64
