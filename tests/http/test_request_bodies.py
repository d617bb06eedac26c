"""Request bodies as real contracts declare them, served on SQLite.

Each case was a wrong answer found by fuzzing corpus contracts: a form body answered 415,
an optional body left out answered 422, properties of an `allOf` -> `oneOf` branch were
refused as unknown, a body that is a plain string was taken for a create.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from conftest import CORPUS, needs_shared, served, write_file

from backsmith.api import load_model
from backsmith.model.types import Kind, Model

pytestmark = pytest.mark.anyio

PETSTORE = CORPUS / "openapi" / "petstore3.yaml"
PRESALYTICS = CORPUS / "openapi" / "apis-guru" / "presalytics.io__story.yaml"
SECRET = "request-bodies-test-secret-of-32-bytes-or-more"

ITEMS = """\
openapi: 3.0.3
info: {title: items, version: "1"}
paths:
  /items:
    post:
      operationId: addItem
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Item"}
          multipart/form-data:
            schema: {$ref: "#/components/schemas/Item"}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Item"}
  /items/{id}:
    get:
      operationId: getItem
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200":
          description: the item
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Item"}
    patch:
      operationId: updateItem
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Item"}
      responses:
        "200":
          description: changed
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Item"}
components:
  schemas:
    Item:
      allOf:
        - type: object
          properties:
            id: {type: integer, readOnly: true}
            label: {type: string}
            count: {type: integer}
            active: {type: boolean}
        - oneOf:
            - type: object
              required: [location]
              properties:
                location: {type: string}
            - type: object
              required: [zone]
              properties:
                zone: {type: string}
"""


@pytest.fixture(scope="module")
def petstore() -> Model:
    if not PETSTORE.is_file():
        pytest.skip(f"no corpus at {CORPUS}")
    return load_model(PETSTORE)


@pytest.fixture
async def pets(petstore: Model, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with served(petstore, f"sqlite:///{tmp_path / 'pets.db'}", jwt_secret=SECRET) as client:
        # Served under its server's path (https://petstore3.swagger.io/api/v3).
        assert petstore.base_path.path == "/api/v3"
        client.base_url = httpx.URL("http://test/api/v3/")
        yield client


@pytest.fixture
async def items(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    model = load_model(write_file(tmp_path, "items.yaml", ITEMS))
    async with served(model, f"sqlite:///{tmp_path / 'items.db'}") as client:
        yield client


def _pets_token() -> dict[str, str]:
    claims = {"sub": "1", "exp": time.time() + 600, "scope": "write:pets read:pets"}
    return {"authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


def _ok(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    return response.json()


# ------------------------------------------------------------------ form bodies
@needs_shared
async def test_a_declared_urlencoded_form_is_read_like_json(pets: httpx.AsyncClient) -> None:
    form = {
        "name": "doggie",
        "photoUrls": ["https://a.example/1", "https://a.example/2"],
        "status": "available",
        "category": '{"id": 1, "name": "Dogs"}',  # an object field is JSON text
    }
    pet = _ok(await pets.post("/pet", data=form, headers=_pets_token()), 200)
    assert pet["name"] == "doggie" and pet["status"] == "available"
    assert pet["photoUrls"] == ["https://a.example/1", "https://a.example/2"]
    assert pet["category"] == {"id": 1, "name": "Dogs"}
    read = _ok(await pets.get(f"/pet/{pet['id']}", headers=_pets_token()), 200)
    assert read == pet


@needs_shared
async def test_form_values_are_typed_and_validated_by_the_schema(pets: httpx.AsyncClient) -> None:
    bad = await pets.post(
        "/pet", data={"name": "x", "photoUrls": "u", "status": "lost"}, headers=_pets_token()
    )
    body = _ok(bad, 422)
    assert [e["pointer"] for e in body["errors"]] == ["#/status"]
    # Only the media types the operation declares: multipart is not one of addPet's.
    refused = await pets.post("/pet", files={"name": (None, "x")}, headers=_pets_token())
    assert refused.status_code == 415
    assert "application/x-www-form-urlencoded" in refused.json()["detail"]


async def test_multipart_fields_are_read_and_files_refused(items: httpx.AsyncClient) -> None:
    fields = {
        "label": (None, "tag 7"),
        "count": (None, "3"),
        "active": (None, "true"),
        "zone": (None, "north"),
    }
    item = _ok(await items.post("/items", files=fields), 201)
    assert (item["label"], item["count"], item["active"]) == ("tag 7", 3, True)
    upload = {"label": ("label.txt", b"tag", "text/plain"), "zone": (None, "north")}
    with_file = await items.post("/items", files=upload)
    body = _ok(with_file, 422)
    assert body["errors"][0]["pointer"] == "#/label"
    assert "file" in body["errors"][0]["detail"]


# ------------------------------------------------------------------ allOf -> oneOf
async def test_properties_of_one_of_branches_inside_all_of_are_accepted(
    items: httpx.AsyncClient,
) -> None:
    item = _ok(await items.post("/items", json={"label": "a", "location": "dock 4"}), 201)
    assert item["location"] == "dock 4"
    other = _ok(await items.post("/items", json={"label": "b", "zone": "north"}), 201)
    assert other["zone"] == "north"
    unknown = _ok(await items.post("/items", json={"label": "c", "zone": "z", "shelf": 2}), 422)
    assert unknown["errors"] == [
        {"detail": "'shelf' is not a property of this request", "pointer": "#/shelf"}
    ]


# ------------------------------------------------------------------ optional bodies
@needs_shared
async def test_an_optional_body_left_out_creates_with_defaults(pets: httpx.AsyncClient) -> None:
    user = _ok(await pets.post("/user"), 200)  # createUser declares only `default`
    assert user["id"] == 1
    order = _ok(await pets.post("/store/order"), 200)
    assert order["id"] == 1
    assert _ok(await pets.get("/store/order/1"), 200) == order


@needs_shared
async def test_an_optional_body_left_out_replaces_with_an_empty_object(
    pets: httpx.AsyncClient,
) -> None:
    _ok(await pets.post("/user", json={"username": "ana", "email": "ana@example.com"}), 200)
    replaced = await pets.put("/user/ana")
    assert replaced.status_code == 200, replaced.text
    stored = _ok(await pets.get("/user/ana"), 200)
    assert stored["username"] == "ana" and stored.get("email") is None


async def test_an_optional_patch_body_left_out_changes_nothing(items: httpx.AsyncClient) -> None:
    item = _ok(await items.post("/items", json={"label": "kept", "zone": "z"}), 201)
    patched = _ok(await items.patch(f"/items/{item['id']}"), 200)
    assert patched == item


async def test_a_required_body_left_out_is_still_a_validation_problem(
    items: httpx.AsyncClient, tmp_path: Path
) -> None:
    required = ITEMS.replace(
        "      operationId: addItem\n      requestBody:\n",
        "      operationId: addItem\n      requestBody:\n        required: true\n",
    )
    model = load_model(write_file(tmp_path, "required.yaml", required))
    async with served(model, f"sqlite:///{tmp_path / 'required.db'}") as client:
        body = _ok(await client.post("/items"), 422)
        assert body["errors"] == [{"detail": "a request body is required", "pointer": "#"}]


# ------------------------------------------------------------------ bodies that are not objects
@needs_shared
async def test_a_body_that_is_a_string_makes_the_operation_custom(tmp_path: Path) -> None:
    model = load_model(PRESALYTICS)
    post = next(op for op in model.operations if op.operation_id == "story_id_messages_post")
    assert post.kind == Kind.CUSTOM
    assert post.reason == "request body is a string, not an object with fields"
    async with served(model, f"sqlite:///{tmp_path / 'story.db'}") as client:
        answer = await client.post(
            "/story/00000000-0000-0000-0000-000000000001/messages",  # its server's /story
            content=b'"hello"',
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == 501, answer.text
        assert post.reason in answer.json()["detail"]
