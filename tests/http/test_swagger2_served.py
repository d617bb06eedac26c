"""A Swagger 2.0 contract served: created and read back through the app, on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import served
from conftest import write_file as write

from backsmith.api import load_model

pytestmark = pytest.mark.anyio

BOOKS = """\
swagger: "2.0"
info: {title: Books, version: "1"}
basePath: /v2
consumes: [application/json]
produces: [application/json]
paths:
  /books:
    get:
      operationId: listBooks
      parameters:
        - name: genre
          in: query
          type: array
          items: {type: string}
          collectionFormat: pipes
      responses:
        "200":
          description: the books
          schema: {type: array, items: {$ref: "#/definitions/Book"}}
    post:
      operationId: createBook
      parameters:
        - {name: book, in: body, required: true, schema: {$ref: "#/definitions/Book"}}
      responses:
        "201": {description: made, schema: {$ref: "#/definitions/Book"}}
  /books/{bookId}:
    parameters:
      - {name: bookId, in: path, required: true, type: integer}
    get:
      operationId: getBook
      responses:
        "200": {description: one book, schema: {$ref: "#/definitions/Book"}}
        "404": {description: no such book}
definitions:
  Book:
    type: object
    required: [title]
    properties:
      id: {type: integer, readOnly: true}
      title: {type: string, minLength: 1}
      genre: {type: string, x-nullable: true}
"""


async def test_a_swagger_contract_creates_and_reads_rows(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, "books.yaml", BOOKS))
    async with served(model, f"sqlite:///{tmp_path / 'books.db'}") as client:
        made = await client.post("/v2/books", json={"title": "Dune", "genre": None})
        assert made.status_code == 201, made.text
        book = made.json()
        assert book == {"id": 1, "title": "Dune", "genre": None}
        read = await client.get(f"/v2/books/{book['id']}")
        assert (read.status_code, read.json()) == (200, book)
        # The body's schema is the definition's: an empty title breaks its minLength.
        refused = await client.post("/v2/books", json={"title": ""})
        assert refused.status_code in (400, 422), refused.text
        assert (await client.get("/v2/books/99")).status_code == 404
        for title, genre in (("Emma", "novel"), ("Odes", "poetry"), ("Ubik", "sf")):
            await client.post("/v2/books", json={"title": title, "genre": genre})
        listed = await client.get("/v2/books", params={"genre": "novel|poetry"})  # pipes
        assert [b["title"] for b in listed.json()] == ["Emma", "Odes"], listed.text
        published = (await client.get("/openapi.json")).json()
        assert published["openapi"] == "3.0.3" and "definitions" not in published


MEMBERS = """\
swagger: "2.0"
info: {title: Members, version: "1"}
paths:
  /members:
    post:
      parameters: [{name: member, in: body, schema: {$ref: "#/definitions/Member"}}]
      responses: {"201": {description: made, schema: {$ref: "#/definitions/Member"}}}
  /members/{id}:
    get:
      parameters: [{name: id, in: path, required: true, type: string}]
      responses: {"200": {description: one, schema: {$ref: "#/definitions/Member"}}}
definitions:
  Member:
    type: object
    properties:
      _id: {type: string, readOnly: true}
      email: {type: string}
"""


async def test_an_underscore_id_is_the_key_stored_as_column_id(tmp_path: Path) -> None:
    """launchdarkly.com's schemas are keyed by `_id` (postmarkapp.com's by `ID`): that
    property is the key, not a column beside a made-up `id`."""
    model = load_model(write(tmp_path, "members.yaml", MEMBERS))
    [members] = model.resources.values()
    assert (members.key.name, members.key.column) == ("_id", "id")
    async with served(model, f"sqlite:///{tmp_path / 'members.db'}") as client:
        made = await client.post("/members", json={"email": "ann@example.com"})
        assert made.status_code == 201, made.text
        read = await client.get(f"/members/{made.json()['_id']}")
        assert (read.status_code, read.json()) == (200, made.json())
