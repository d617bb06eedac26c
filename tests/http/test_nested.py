"""Nested collections under parents named by any key, through any number of parents.

`/books/{slug}/reviews` finds the book by its slug and files the review under it;
`/authors/{handle}/books/{slug}/reviews` finds the book by slug among that author's books;
`/genres/{name}/books` links a new book to the genre. A parent that does not exist (or is
not under the parent outside it) is a 404 for lists and creates alike, and nothing is
written. The corpus contracts that showed the defects are in test_corpus_paths.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import served, write_file

from backsmith.api import check, load_model
from backsmith.model.types import Kind

pytestmark = pytest.mark.anyio


def reused(bodies: list[str], answers: list[str], lists: list[str]) -> str:
    """components.requestBodies and .responses for the named schemas, as YAML lines."""

    def ref(name: str) -> str:
        return f"{{$ref: '#/components/schemas/{name}'}}"

    lines = ["  requestBodies:"]
    for name in bodies:
        lines += [f"    {name}:", "      required: true", "      content:"]
        lines.append(f"        application/json: {{schema: {ref(name)}}}")
    lines.append("  responses:")
    for name in answers:
        lines += [f"    {name}:", "      description: one", "      content:"]
        lines.append(f"        application/json: {{schema: {ref(name)}}}")
    for name in lists:
        lines += [f"    {name}List:", "      description: some", "      content:"]
        lines.append(f"        application/json: {{schema: {{type: array, items: {ref(name)}}}}}")
    return "\n".join(lines) + "\n"


SHELF = """
openapi: 3.1.0
info: {title: Shelf, version: '1'}
x-backsmith: {dbml: schema.dbml}
paths:
  /authors:
    post:
      operationId: createAuthor
      requestBody: {$ref: '#/components/requestBodies/Author'}
      responses: {'201': {$ref: '#/components/responses/Author'}}
  /authors/{handle}/books:
    parameters: [{name: handle, in: path, required: true, schema: {type: string}}]
    get:
      operationId: listAuthorBooks
      responses: {'200': {$ref: '#/components/responses/BookList'}}
    post:
      operationId: createAuthorBook
      requestBody: {$ref: '#/components/requestBodies/NewBook'}
      responses: {'201': {$ref: '#/components/responses/Book'}}
  /books/{slug}:
    parameters: [{name: slug, in: path, required: true, schema: {type: string}}]
    get:
      operationId: getBook
      responses: {'200': {$ref: '#/components/responses/Book'}}
    delete:
      operationId: deleteBook
      responses: {'204': {description: gone}}
  /books/{slug}/reviews:
    parameters: [{name: slug, in: path, required: true, schema: {type: string}}]
    get:
      operationId: listReviews
      responses: {'200': {$ref: '#/components/responses/ReviewList'}}
    post:
      operationId: createReview
      requestBody: {$ref: '#/components/requestBodies/NewReview'}
      responses: {'201': {$ref: '#/components/responses/Review'}}
  /authors/{handle}/books/{bookSlug}/reviews:
    parameters:
      - {name: handle, in: path, required: true, schema: {type: string}}
      - {name: bookSlug, in: path, required: true, schema: {type: string}}
    get:
      operationId: listAuthorBookReviews
      responses: {'200': {$ref: '#/components/responses/ReviewList'}}
    post:
      operationId: createAuthorBookReview
      requestBody: {$ref: '#/components/requestBodies/NewReview'}
      responses: {'201': {$ref: '#/components/responses/Review'}}
  /authors/{handle}/books/{bookSlug}/reviews/{reviewId}:
    parameters:
      - {name: handle, in: path, required: true, schema: {type: string}}
      - {name: bookSlug, in: path, required: true, schema: {type: string}}
      - {name: reviewId, in: path, required: true, schema: {type: integer}}
    get:
      operationId: getAuthorBookReview
      responses: {'200': {$ref: '#/components/responses/Review'}}
  /genres:
    post:
      operationId: createGenre
      requestBody: {$ref: '#/components/requestBodies/Genre'}
      responses: {'201': {$ref: '#/components/responses/Genre'}}
  /genres/{name}/books:
    parameters: [{name: name, in: path, required: true, schema: {type: string}}]
    get:
      operationId: listGenreBooks
      responses: {'200': {$ref: '#/components/responses/BookList'}}
    post:
      operationId: createGenreBook
      requestBody: {$ref: '#/components/requestBodies/GenreBook'}
      responses: {'201': {$ref: '#/components/responses/Book'}}
components:
  schemas:
    Author:
      type: object
      required: [handle]
      properties:
        id: {type: integer, readOnly: true}
        handle: {type: string}
    Book:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        slug: {type: string}
        title: {type: string}
        author_id: {type: integer}
    NewBook:
      type: object
      additionalProperties: false
      required: [slug, title]
      properties:
        slug: {type: string}
        title: {type: string}
    GenreBook:
      type: object
      additionalProperties: false
      required: [slug, title, author_id]
      properties:
        slug: {type: string}
        title: {type: string}
        author_id: {type: integer}
    Review:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        book_id: {type: integer, readOnly: true}
        stars: {type: integer}
    NewReview:
      type: object
      additionalProperties: false
      required: [stars]
      properties:
        stars: {type: integer, minimum: 1, maximum: 5}
    Genre:
      type: object
      required: [name]
      properties:
        id: {type: integer, readOnly: true}
        name: {type: string}
""" + reused(
    ["Author", "Genre", "GenreBook", "NewBook", "NewReview"],
    ["Author", "Book", "Genre", "Review"],
    ["Book", "Review"],
)

SHELF_DBML = """
Table authors {
  id integer [pk, increment]
  handle varchar(64) [not null, unique]
}
Table books {
  id integer [pk, increment]
  slug varchar(120) [not null, unique]
  title varchar(300) [not null]
  author_id integer [not null]
}
Table reviews {
  id integer [pk, increment]
  book_id integer [not null]
  stars integer [not null]
}
Table genres {
  id integer [pk, increment]
  name varchar(64) [not null, unique]
}
Table book_genres {
  book_id integer [not null]
  genre_id integer [not null]
  indexes {
    (book_id, genre_id) [pk]
    genre_id
  }
}
Ref: books.author_id > authors.id
Ref: reviews.book_id > books.id
Ref: book_genres.book_id > books.id [delete: cascade]
Ref: book_genres.genre_id > genres.id [delete: cascade]
"""


def shelf(tmp_path: Path, contract: str = SHELF) -> Path:
    write_file(tmp_path, "schema.dbml", SHELF_DBML)
    return write_file(tmp_path, "api.yaml", contract)


async def made(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, f"{path}: {response.text}"
    return dict(response.json())


def missing(response: httpx.Response, parameter: str) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == f"No parent item matches path parameter '{parameter}'."


async def test_a_review_is_filed_under_the_book_its_slug_names(
    tmp_path: Path, database_url: str
) -> None:
    async with served(load_model(shelf(tmp_path)), database_url) as client:
        le_guin = await made(client, "/authors", {"handle": "le-guin"})
        earthsea = await made(
            client, "/authors/le-guin/books", {"slug": "earthsea", "title": "Earthsea"}
        )
        assert earthsea["author_id"] == le_guin["id"]
        lathe = await made(client, "/authors/le-guin/books", {"slug": "lathe", "title": "Lathe"})

        review = await made(client, "/books/earthsea/reviews", {"stars": 5})
        assert review["book_id"] == earthsea["id"]
        await made(client, "/books/lathe/reviews", {"stars": 3})
        listed = (await client.get("/books/earthsea/reviews")).json()
        assert [(r["book_id"], r["stars"]) for r in listed] == [(earthsea["id"], 5)]
        assert [r["book_id"] for r in (await client.get("/books/lathe/reviews")).json()] == [
            lathe["id"]
        ]

        # The reference comes from the path: a body naming it is refused as the schema says.
        sneaky = await client.post("/books/earthsea/reviews", json={"stars": 4, "book_id": 2})
        assert sneaky.status_code == 422, sneaky.text
        # A book that does not exist: 404 to list and to create, and nothing is written.
        missing(await client.get("/books/nowhere/reviews"), "slug")
        missing(await client.post("/books/nowhere/reviews", json={"stars": 1}), "slug")
        missing(
            await client.post("/authors/nobody/books", json={"slug": "x", "title": "X"}), "handle"
        )
        assert len((await client.get("/books/earthsea/reviews")).json()) == 1


async def test_a_parent_is_found_under_the_parents_outside_it(
    tmp_path: Path, database_url: str
) -> None:
    async with served(load_model(shelf(tmp_path)), database_url) as client:
        await made(client, "/authors", {"handle": "le-guin"})
        await made(client, "/authors", {"handle": "jemisin"})
        await made(client, "/authors/le-guin/books", {"slug": "earthsea", "title": "Earthsea"})
        await made(client, "/authors/jemisin/books", {"slug": "fifth", "title": "Fifth Season"})

        review = await made(client, "/authors/le-guin/books/earthsea/reviews", {"stars": 5})
        book = (await client.get("/books/earthsea")).json()
        assert review["book_id"] == book["id"]
        path = f"/authors/le-guin/books/earthsea/reviews/{review['id']}"
        assert (await client.get(path)).json() == review
        assert (await client.get(path.replace("le-guin", "jemisin"))).status_code == 404

        # Earthsea is not among jemisin's books, whichever way it is asked for.
        missing(await client.get("/authors/jemisin/books/earthsea/reviews"), "bookSlug")
        refused = await client.post("/authors/jemisin/books/earthsea/reviews", json={"stars": 1})
        missing(refused, "bookSlug")
        missing(await client.get("/authors/nobody/books/earthsea/reviews"), "handle")
        listed = (await client.get("/authors/le-guin/books/earthsea/reviews")).json()
        assert [r["id"] for r in listed] == [review["id"]]
        assert (await client.get("/authors/jemisin/books/fifth/reviews")).json() == []


async def test_a_book_made_under_a_genre_is_linked_to_it(tmp_path: Path, database_url: str) -> None:
    async with served(load_model(shelf(tmp_path)), database_url) as client:
        author = await made(client, "/authors", {"handle": "le-guin"})
        await made(client, "/genres", {"name": "fantasy"})
        await made(client, "/genres", {"name": "poetry"})
        body = {"slug": "earthsea", "title": "Earthsea", "author_id": author["id"]}
        book = await made(client, "/genres/fantasy/books", body)
        assert [b["id"] for b in (await client.get("/genres/fantasy/books")).json()] == [book["id"]]
        assert (await client.get("/genres/poetry/books")).json() == []
        again = {**body, "slug": "lathe"}
        missing(await client.post("/genres/nowhere/books", json=again), "name")
        assert (await client.get("/books/lathe")).status_code == 404  # nothing written


async def test_deleting_the_parent_makes_its_list_a_404(tmp_path: Path, database_url: str) -> None:
    async with served(load_model(shelf(tmp_path)), database_url) as client:
        await made(client, "/authors", {"handle": "le-guin"})
        await made(client, "/authors/le-guin/books", {"slug": "earthsea", "title": "Earthsea"})
        assert (await client.get("/books/earthsea/reviews")).json() == []
        assert (await client.delete("/books/earthsea")).status_code == 204
        missing(await client.get("/books/earthsea/reviews"), "slug")


def test_the_model_says_how_each_parent_is_reached(tmp_path: Path) -> None:
    model = load_model(shelf(tmp_path))
    ops = {op.operation_id: op for op in model.operations}
    scopes = {
        name: [(p.name, p.column, [h.target for h in p.hops]) for p in op.params]
        for name, op in ops.items()
    }
    assert scopes["createReview"] == [("slug", "slug", ["books"])]
    assert scopes["listAuthorBooks"] == [("handle", "handle", ["authors"])]
    assert scopes["getAuthorBookReview"] == [
        ("handle", "handle", ["books", "authors"]),
        ("bookSlug", "slug", ["books"]),
        ("reviewId", "id", []),
    ]
    assert scopes["createGenreBook"] == [("name", "name", ["genres"])]


THINGS = """
openapi: 3.1.0
info: {title: Things, version: '1'}
x-backsmith: {dbml: schema.dbml}
paths:
  /things:
    post:
      operationId: createThing
      requestBody: {$ref: '#/components/requestBodies/Thing'}
      responses: {'201': {$ref: '#/components/responses/Thing'}}
  /things/{slug}:
    parameters: [{name: slug, in: path, required: true, schema: {type: string}}]
    get:
      operationId: getThing
      responses: {'200': {$ref: '#/components/responses/Thing'}}
components:
  schemas:
    Thing:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        code: {type: string}
""" + reused(["Thing"], ["Thing"], [])
THINGS_DBML = """
Table things {
  id integer [pk, increment]
  code varchar(20) [not null, unique]
}
"""


def test_a_path_key_that_names_no_column_needs_a_declaration(tmp_path: Path) -> None:
    write_file(tmp_path, "schema.dbml", THINGS_DBML)
    contract = write_file(tmp_path, "api.yaml", THINGS)
    report = check(contract)
    reading = report.model.operations[1]
    assert reading.kind == Kind.CUSTOM
    assert reading.reason == "needs a declaration: path parameter 'slug' names no column of things"
    [warning] = [w for w in report.model.warnings if "slug" in w]
    assert warning.startswith(f"{contract}:12: warning at #/paths/~1things~1{{slug}}/parameters/0")
    assert warning.endswith(
        ": path parameter 'slug' names no column of things: add a column 'slug' to table "
        "things, or declare the column it addresses with x-backsmith: {column: ...} on the "
        "parameter (one of id, code)"
    )

    declared = THINGS.replace(
        "[{name: slug, in: path, required: true, schema: {type: string}}]",
        "[{name: slug, in: path, required: true, schema: {type: string},"
        " x-backsmith: {column: code}}]",
    )
    write_file(tmp_path, "api.yaml", declared)
    reading = load_model(contract).operations[1]
    assert (reading.kind, [(p.name, p.column) for p in reading.params]) == (
        Kind.READ,
        [("slug", "code")],
    )


async def test_a_declared_path_column_addresses_rows(tmp_path: Path, database_url: str) -> None:
    write_file(tmp_path, "schema.dbml", THINGS_DBML)
    declared = THINGS.replace(
        "schema: {type: string}}]", "schema: {type: string}, x-backsmith: {column: code}}]"
    )
    model = load_model(write_file(tmp_path, "api.yaml", declared))
    async with served(model, database_url) as client:
        thing = await made(client, "/things", {"code": "abc"})
        assert (await client.get("/things/abc")).json() == thing
        assert (await client.get("/things/xyz")).status_code == 404


NOTES = """
openapi: 3.1.0
info: {title: Notes, version: '1'}
x-backsmith: {dbml: schema.dbml}
paths:
  /notes:
    post:
      operationId: createNote
      requestBody: {$ref: '#/components/requestBodies/Note'}
      responses: {'201': {$ref: '#/components/responses/Note'}}
components:
  schemas:
    Note:
      type: object
      properties:
        id: {type: integer}
        text: {type: string}
""" + reused(["Note"], ["Note"], [])


async def test_a_key_the_database_numbers_is_refused_not_replaced(
    tmp_path: Path, database_url: str
) -> None:
    write_file(
        tmp_path, "schema.dbml", "Table notes {\n  id integer [pk, increment]\n  text text\n}"
    )
    model = load_model(write_file(tmp_path, "api.yaml", NOTES))
    async with served(model, database_url) as client:
        refused = await client.post("/notes", json={"id": 10, "text": "x"})
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"] == [
            {"detail": "'id' is generated by the server: leave it out", "pointer": "#/id"}
        ]
        made = await client.post("/notes", json={"text": "x"})
        assert (made.status_code, made.json()["id"]) == (201, 1)


DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "paths" / "demo.yaml"


async def test_the_documented_demo_answers_as_docs_say(database_url: str) -> None:
    """docs/real-contracts.md walks through this contract; its first answers, as written."""
    async with served(load_model(DEMO), database_url) as client:
        book = {"slug": "earthsea", "title": "A Wizard of Earthsea"}
        assert (await client.post("/books", json=book)).status_code == 201
        review = await client.post("/books/earthsea/reviews", json={"stars": 5})
        assert (review.status_code, review.json()) == (201, {"id": 1, "book_id": 1, "stars": 5})
        listed = await client.get("/books/earthsea/reviews")
        assert listed.json() == [{"id": 1, "book_id": 1, "stars": 5}]
        nowhere = await client.post("/books/nowhere/reviews", json={"stars": 1})
        assert nowhere.status_code == 404
        assert nowhere.json()["detail"] == "No parent item matches path parameter 'slug'."
