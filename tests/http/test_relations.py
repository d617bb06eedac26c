"""Relations over HTTP, on SQLite and PostgreSQL: the reading-room contract.

tests/fixtures/relations/api.yaml (with schema.dbml) serves books with their author,
genres and wishlists, and orders with their lines. These tests cover naming (camelCase
properties over snake_case columns), embedded relations and the number of queries they
cost, many-to-many links, links that belong to the caller (a bearer JWT), nested writes
in one transaction, alternate keys and derived slugs, computed fields, response
envelopes, filters across relations, and the contract errors of the vocabulary.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy
from conftest import FIXTURES, client_for, served, start_app, stop_app, write_file

from backsmith.api import load_model
from backsmith.cli import main
from backsmith.errors import ContractError
from backsmith.http.app import BacksmithApp
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

CONTRACT = FIXTURES / "relations" / "api.yaml"
SECRET = "reading-room-test-secret-of-at-least-32-bytes"
PROBLEM = "application/problem+json"
EARTHSEA = "A Wizard of Earthsea"


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model(CONTRACT)


# ----------------------------------------------------------------------------- helpers


def token(sub: object, *, secret: str = SECRET, expires_in: int = 600) -> str:
    claims = {"sub": str(sub), "exp": int(time.time()) + expires_in}
    return jwt.encode(claims, secret, algorithm="HS256")


def as_user(sub: object, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sub, **kwargs)}"}


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def pointers(response: httpx.Response) -> list[str]:
    return [error["pointer"] for error in response.json().get("errors", [])]


async def created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def seed(client: httpx.AsyncClient) -> None:
    """Users 1 (ana) and 2 (bob); authors 1 (le-guin) and 2 (butler)."""
    assert (await created(client, "/users", {"username": "ana"}))["id"] == 1
    assert (await created(client, "/users", {"username": "bob"}))["id"] == 2
    await created(client, "/authors", {"handle": "le-guin", "name": "Ursula K. Le Guin"})
    await created(client, "/authors", {"handle": "butler", "name": "Octavia E. Butler"})


async def book(
    client: httpx.AsyncClient, title: str, author_id: int = 1, genres: list[str] | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {"title": title, "authorId": author_id}
    if genres is not None:
        item["genreList"] = genres
    made: dict[str, Any] = (await created(client, "/books", {"book": item}))["book"]
    return made


def slugs(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["books"]]


@asynccontextmanager
async def app_and_client(
    model: Model, database_url: str
) -> AsyncIterator[tuple[BacksmithApp, httpx.AsyncClient]]:
    """Like conftest.served, also handing out the app for its engine."""
    app = await start_app(model, database_url, jwt_secret=SECRET)
    try:
        async with client_for(app) as client:
            yield app, client
    finally:
        await stop_app(app)


async def scalar(app: BacksmithApp, sql: str) -> Any:
    async with app.engine.connect() as conn:
        return (await conn.execute(sqlalchemy.text(sql))).scalar()


async def rows(app: BacksmithApp, sql: str) -> list[tuple[Any, ...]]:
    async with app.engine.connect() as conn:
        return [tuple(row) for row in (await conn.execute(sqlalchemy.text(sql))).all()]


class SelectCounter:
    """Counts the SELECT statements the app sends to its database while active."""

    def __init__(self, app: BacksmithApp) -> None:
        self.statements: list[str] = []
        self.active = False
        app.database.listeners.append(self._seen)

    def _seen(self, statement: str) -> None:
        if self.active and statement.lstrip().upper().startswith("SELECT"):
            self.statements.append(statement)

    async def count(self, call: Any) -> tuple[int, httpx.Response]:
        self.statements.clear()
        self.active = True
        try:
            response = await call
        finally:
            self.active = False
        return len(self.statements), response


# ---------------------------------------------------------------------- 1. naming


async def test_camel_case_properties_are_stored_in_snake_case_columns(
    model: Model, database_url: str
) -> None:
    async with app_and_client(model, database_url) as (app, client):
        await seed(client)
        made = await book(client, EARTHSEA, author_id=2)
        assert made["authorId"] == 2
        assert made["createdAt"] == made["updatedAt"] and made["createdAt"].endswith("Z")
        assert not {"author_id", "created_at", "updated_at"} & set(made)

        read = await client.get(f"/books/{made['slug']}")
        assert read.status_code == 200 and read.json() == {"book": made}
        assert await rows(app, "select slug, title, author_id from books") == [
            ("a-wizard-of-earthsea", EARTHSEA, 2)
        ]

        order = await created(
            client,
            "/orders",
            {"reference": "R-1", "lines": [{"bookId": 1, "quantity": 3, "unitPrice": 250}]},
        )
        assert [(x["quantity"], x["unitPrice"]) for x in order["lines"]] == [(3, 250)]
        assert "unit_price" not in order["lines"][0] and "createdAt" in order
        assert await rows(app, "select book_id, quantity, unit_price from order_lines") == [
            (1, 3, 250)
        ]


PEOPLE_API = """\
openapi: 3.1.0
info: {title: People, version: "1"}
x-backsmith: {dbml: schema.dbml}
paths:
  /people:
    get:
      operationId: listPeople
      responses:
        '200':
          description: People.
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Person'}}
    post:
      operationId: createPerson
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Person'}}}
      responses:
        '201':
          description: Created.
          content: {application/json: {schema: {$ref: '#/components/schemas/Person'}}}
  /people/{id}:
    get:
      operationId: getPerson
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        '200':
          description: One.
          content: {application/json: {schema: {$ref: '#/components/schemas/Person'}}}
components:
  schemas:
    Person:
      type: object
      additionalProperties: false
      required: [displayName]
      properties:
        id: {type: integer, readOnly: true}
        displayName: {type: string, x-backsmith: {column: full_name}}
"""

PEOPLE_DBML = """\
Table people {
  id integer [pk, increment]
  full_name varchar(200) [not null]
}
"""


def people_contract(tmp_path: Path) -> Path:
    write_file(tmp_path, "schema.dbml", PEOPLE_DBML)
    return write_file(tmp_path, "api.yaml", PEOPLE_API)


async def test_column_override_is_served_and_written(tmp_path: Path, database_url: str) -> None:
    people = load_model(people_contract(tmp_path))
    app = await start_app(people, database_url)
    try:
        async with client_for(app) as client:
            made = await client.post("/people", json={"displayName": "Ursula K. Le Guin"})
            assert made.status_code == 201, made.text
            assert made.json() == {"id": 1, "displayName": "Ursula K. Le Guin"}
            assert (await client.get("/people/1")).json() == made.json()
            assert (await client.get("/people")).json() == [made.json()]
            refused = await client.post("/people", json={"full_name": "X"})
            assert refused.status_code == 422, refused.text
        assert await rows(app, "select id, full_name from people") == [(1, "Ursula K. Le Guin")]
    finally:
        await stop_app(app)


def test_model_json_shows_the_property_to_column_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["model", "--json", str(people_contract(tmp_path))]) == 0
    data = json.loads(capsys.readouterr().out)
    fields = {f["name"]: f["column"] for f in data["resources"]["people"]["fields"]}
    assert fields == {"id": "id", "displayName": "full_name"}

    assert main(["model", "--json", str(CONTRACT)]) == 0
    data = json.loads(capsys.readouterr().out)
    books = {f["name"]: f["column"] for f in data["resources"]["books"]["fields"]}
    assert books["authorId"] == "author_id" and books["createdAt"] == "created_at"
    assert {"columns": ["author_id"], "table": "authors", "on_delete": "restrict"} in data[
        "resources"
    ]["books"]["references"]


# -------------------------------------------------------------------- 2. embedding


async def test_book_and_author_embed_their_relations(model: Model, database_url: str) -> None:
    async with served(model, database_url, jwt_secret=SECRET) as client:
        await seed(client)
        first = await book(client, EARTHSEA, genres=["fantasy", "classic"])
        assert first["author"] == {
            "handle": "le-guin",
            "name": "Ursula K. Le Guin",
            "booksCount": 1,
        }
        assert first["genreList"] == ["classic", "fantasy"]  # by value, not as sent
        await book(client, "The Dispossessed", genres=["sf"])
        await book(client, "Kindred", author_id=2)

        got = await client.get("/books/a-wizard-of-earthsea")
        assert got.status_code == 200
        assert got.json()["book"]["author"]["booksCount"] == 2
        assert got.json()["book"]["genreList"] == ["classic", "fantasy"]

        author = await client.get("/authors/le-guin")
        assert author.status_code == 200, author.text
        assert author.json() == {
            "handle": "le-guin",
            "name": "Ursula K. Le Guin",
            "books": [
                {
                    "slug": "a-wizard-of-earthsea",
                    "title": EARTHSEA,
                    "genreList": ["classic", "fantasy"],
                },
                {"slug": "the-dispossessed", "title": "The Dispossessed", "genreList": ["sf"]},
            ],
        }
        other = (await client.get("/authors/butler")).json()
        assert [b["slug"] for b in other["books"]] == ["kindred"]
        assert other["books"][0]["genreList"] == []
        assert (await client.get("/authors/nobody")).status_code == 404


async def test_listing_books_costs_the_same_queries_for_2_or_10_books(
    model: Model, database_url: str
) -> None:
    async with app_and_client(model, database_url) as (app, client):
        await seed(client)
        counter = SelectCounter(app)
        counts = {}
        for n in range(10):
            await book(client, f"Book {n}", author_id=1 + n % 2, genres=[f"g{n % 3}", "all"])
            wished = await client.post(f"/books/book-{n}/wishlist", headers=as_user(1))
            assert wished.status_code == 200, wished.text
            if n in (1, 9):
                selects, listed = await counter.count(client.get("/books", headers=as_user(1)))
                body = listed.json()
                assert listed.status_code == 200 and body["booksCount"] == n + 1
                assert len(body["books"]) == n + 1
                for item in body["books"]:
                    assert item["author"]["handle"] in ("le-guin", "butler")
                    assert "all" in item["genreList"] and len(item["genreList"]) == 2
                    assert item["wishlisted"] is True and item["wishlistedCount"] == 1
                counts[n + 1] = selects
        assert counts[2] == counts[10], counts
        assert 1 <= counts[10] <= 4, counter.statements  # books, their count, authors, genres


async def test_order_read_embeds_three_levels_in_at_most_four_selects(
    model: Model, database_url: str
) -> None:
    async with app_and_client(model, database_url) as (app, client):
        await seed(client)
        await book(client, EARTHSEA)
        await book(client, "The Dispossessed")
        await book(client, "Kindred", author_id=2)
        lines = [
            {"bookId": 1, "quantity": 2, "unitPrice": 500},
            {"bookId": 2, "quantity": 1, "unitPrice": 300},
            {"bookId": 3, "quantity": 3, "unitPrice": 100},
        ]
        order = await created(client, "/orders", {"reference": "R-1", "lines": lines})
        counter = SelectCounter(app)
        selects, got = await counter.count(client.get(f"/orders/{order['id']}"))
        assert got.status_code == 200 and got.json() == order
        assert 1 <= selects <= 4, counter.statements  # order, lines, books, authors
        assert [
            (x["quantity"], x["unitPrice"], x["book"]["slug"], x["book"]["author"]["handle"])
            for x in order["lines"]
        ] == [
            (2, 500, "a-wizard-of-earthsea", "le-guin"),
            (1, 300, "the-dispossessed", "le-guin"),
            (3, 100, "kindred", "butler"),
        ]
        assert order["lines"][2]["book"] == {
            "slug": "kindred",
            "title": "Kindred",
            "author": {"handle": "butler"},
        }
        assert order["total"] == 2 * 500 + 300 + 3 * 100
        assert (await client.get("/orders/999")).status_code == 404


# ------------------------------------------------------------- 3. many-to-many links


async def test_genre_links_are_added_listed_and_removed(model: Model, database_url: str) -> None:
    async with app_and_client(model, database_url) as (app, client):
        await seed(client)
        await book(client, EARTHSEA, genres=["fantasy"])
        await book(client, "Kindred", author_id=2)
        assert (await client.get("/books/kindred/genres")).json() == []

        for _ in range(2):  # idempotent
            added = await client.put("/books/kindred/genres/fantasy")
            assert added.status_code == 204 and added.content == b""
        listed = await client.get("/books/kindred/genres")
        assert listed.status_code == 200 and listed.json() == [{"name": "fantasy"}]
        assert await scalar(app, "select count(*) from book_genres") == 2
        assert (await client.get("/books/kindred")).json()["book"]["genreList"] == ["fantasy"]
        assert slugs(await client.get("/books?genre=fantasy")) == [
            "kindred",
            "a-wizard-of-earthsea",
        ]

        problem(await client.put("/books/nope/genres/fantasy"), 404)
        problem(await client.put("/books/kindred/genres/nope"), 404)
        assert await scalar(app, "select count(*) from genres") == 1  # no genre made up

        removed = await client.delete("/books/kindred/genres/fantasy")
        assert removed.status_code == 204
        assert (await client.get("/books/kindred/genres")).json() == []
        assert (await client.get("/books/a-wizard-of-earthsea/genres")).json() == [
            {"name": "fantasy"}
        ]
        assert await scalar(app, "select count(*) from book_genres") == 1


# --------------------------------------------------------------- 4. caller's link


def wish(response: httpx.Response) -> tuple[bool, int]:
    """(wishlisted, wishlistedCount) of a {"book": ...} response."""
    assert response.status_code == 200, response.text
    item = response.json()["book"]
    return item["wishlisted"], item["wishlistedCount"]


async def test_wishlist_belongs_to_the_caller(model: Model, database_url: str) -> None:
    async with app_and_client(model, database_url) as (app, client):
        await seed(client)
        await book(client, EARTHSEA)
        await book(client, "Kindred", author_id=2)
        path = "/books/a-wizard-of-earthsea/wishlist"
        read = "/books/a-wizard-of-earthsea"

        for anonymous in (await client.post(path), await client.delete(path)):
            assert problem(anonymous, 401)["title"] == "Unauthorized"
            assert anonymous.headers["www-authenticate"].startswith("Bearer")
        assert await scalar(app, "select count(*) from wishlists") == 0

        for _ in range(2):  # idempotent
            mine = await client.post(path, headers=as_user(1))
            assert wish(mine) == (True, 1)
            assert mine.json()["book"]["slug"] == "a-wizard-of-earthsea"
            assert mine.json()["book"]["author"]["handle"] == "le-guin"
        assert await rows(app, "select book_id, user_id from wishlists") == [(1, 1)]

        assert wish(await client.get(read, headers=as_user(1))) == (True, 1)
        assert wish(await client.get(read, headers=as_user(2))) == (False, 1)
        assert wish(await client.get(read)) == (False, 1)

        assert wish(await client.post(path, headers=as_user(2))) == (True, 2)
        listed = (await client.get("/books", headers=as_user(1))).json()["books"]
        assert {b["slug"]: (b["wishlisted"], b["wishlistedCount"]) for b in listed} == {
            "a-wizard-of-earthsea": (True, 2),
            "kindred": (False, 0),
        }

        for _ in range(2):  # idempotent
            assert wish(await client.delete(path, headers=as_user(1))) == (False, 1)
        assert await rows(app, "select book_id, user_id from wishlists") == [(1, 2)]
        assert wish(await client.get(read, headers=as_user(2))) == (True, 1)
        problem(await client.post("/books/nope/wishlist", headers=as_user(1)), 404)


async def test_bad_tokens_are_401(model: Model, database_url: str) -> None:
    async with app_and_client(model, database_url) as (app, client):
        await seed(client)
        await book(client, EARTHSEA)
        path = "/books/a-wizard-of-earthsea/wishlist"
        forged = as_user(1, secret="another-secret-that-is-32-bytes-long!")
        expired = as_user(1, expires_in=-3600)
        for headers, words in (
            (forged, "Signature verification failed"),
            (expired, "expired"),
            ({"Authorization": "Bearer not-a-jwt"}, "not valid"),
        ):
            for response in (
                await client.post(path, headers=headers),
                await client.get("/books", headers=headers),
            ):
                assert words in problem(response, 401)["detail"]
                assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert await scalar(app, "select count(*) from wishlists") == 0


async def test_a_token_naming_no_caller_is_401_with_a_challenge(
    model: Model, database_url: str
) -> None:
    async with served(model, database_url, jwt_secret=SECRET) as client:
        await seed(client)
        await book(client, EARTHSEA)
        for subject in ("abc", "99"):  # not an integer key; no such user
            response = await client.post(
                "/books/a-wizard-of-earthsea/wishlist", headers=as_user(subject)
            )
            problem(response, 401)
            assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert (await client.get("/books/a-wizard-of-earthsea")).json()["book"][
            "wishlistedCount"
        ] == 0


# ---------------------------------------------------------------- 5. nested writes

LINES = [
    {"bookId": 1, "quantity": 2, "unitPrice": 500},
    {"bookId": 2, "quantity": 1, "unitPrice": 300},
]


async def test_order_is_created_with_its_lines(model: Model, database_url: str) -> None:
    async with app_and_client(model, database_url) as (app, client):
        await seed(client)
        await book(client, EARTHSEA)
        await book(client, "Kindred", author_id=2)
        response = await client.post(
            "/orders",
            json={
                "reference": "R-1",
                "lines": [*LINES, {"bookId": 2, "quantity": 4, "unitPrice": 25}],
            },
        )
        assert response.status_code == 201, response.text
        order = response.json()
        assert response.headers["location"] == f"/orders/{order['id']}"
        assert order["reference"] == "R-1"
        assert order["total"] == 2 * 500 + 1 * 300 + 4 * 25
        assert [(x["book"]["slug"], x["quantity"]) for x in order["lines"]] == [
            ("a-wizard-of-earthsea", 2),
            ("kindred", 1),
            ("kindred", 4),
        ]
        assert len({x["id"] for x in order["lines"]}) == 3
        assert await scalar(app, "select count(*) from order_lines") == 3
        assert await scalar(app, "select count(distinct order_id) from order_lines") == 1

        empty = await created(client, "/orders", {"reference": "R-0", "lines": []})
        assert (empty["lines"], empty["total"]) == ([], 0)


async def test_an_invalid_third_line_writes_nothing(model: Model, database_url: str) -> None:
    async with app_and_client(model, database_url) as (app, client):
        await seed(client)
        await book(client, EARTHSEA)
        await book(client, "Kindred", author_id=2)
        await created(client, "/orders", {"reference": "R-1", "lines": LINES})
        before = [await scalar(app, f"select count(*) from {t}") for t in ("orders", "order_lines")]
        assert before == [1, 2]

        zero = {"bookId": 1, "quantity": 0, "unitPrice": 100}
        response = await client.post("/orders", json={"reference": "R-2", "lines": [*LINES, zero]})
        problem(response, 422)
        assert any(p.startswith("#/lines/2") for p in pointers(response)), response.text

        missing = {"bookId": 999, "quantity": 1, "unitPrice": 100}
        response = await client.post(
            "/orders", json={"reference": "R-2", "lines": [*LINES, missing]}
        )
        problem(response, 422)
        assert pointers(response) == ["#/lines/2"]
        after = [await scalar(app, f"select count(*) from {t}") for t in ("orders", "order_lines")]
        assert after == before
        assert await scalar(app, "select count(*) from orders where reference = 'R-2'") == 0
        await created(client, "/orders", {"reference": "R-2", "lines": LINES})  # still free


async def test_put_replaces_lines_and_patch_refuses_them(model: Model, database_url: str) -> None:
    async with app_and_client(model, database_url) as (app, client):
        await seed(client)
        await book(client, EARTHSEA)
        await book(client, "Kindred", author_id=2)
        order = await created(client, "/orders", {"reference": "R-1", "lines": LINES})
        path = f"/orders/{order['id']}"

        new_lines = [{"bookId": 2, "quantity": 5, "unitPrice": 10}]
        replaced = await client.put(path, json={"reference": "R-1b", "lines": new_lines})
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["reference"] == "R-1b" and replaced.json()["total"] == 50
        assert [(x["book"]["slug"], x["quantity"]) for x in replaced.json()["lines"]] == [
            ("kindred", 5)
        ]
        assert await rows(app, "select book_id, quantity, unit_price from order_lines") == [
            (2, 5, 10)
        ]

        bad = [{"bookId": 999, "quantity": 1, "unitPrice": 1}]
        refused = await client.put(path, json={"reference": "R-1c", "lines": bad})
        problem(refused, 422)
        assert pointers(refused) == ["#/lines/0"]
        assert (await client.get(path)).json() == replaced.json()  # rolled back

        patched = await client.patch(path, json={"lines": LINES})
        body = problem(patched, 422)
        assert pointers(patched) == ["#/lines"]
        assert "children: replace" in body["errors"][0]["detail"]
        assert await scalar(app, "select count(*) from order_lines") == 1

        renamed = await client.patch(path, json={"reference": "R-1d"})
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["reference"] == "R-1d"
        assert renamed.json()["lines"] == replaced.json()["lines"]
        problem(await client.put("/orders/999", json={"reference": "Z", "lines": []}), 404)


async def test_creating_a_book_creates_its_missing_genres(model: Model, database_url: str) -> None:
    async with app_and_client(model, database_url) as (app, client):
        await seed(client)
        await book(client, EARTHSEA, genres=["fantasy"])
        made = await book(client, "Tehanu", genres=["fantasy", "new-genre"])
        assert made["genreList"] == ["fantasy", "new-genre"]
        assert (await client.get("/books/tehanu/genres")).json() == [
            {"name": "fantasy"},
            {"name": "new-genre"},
        ]
        assert await rows(app, "select name from genres order by id") == [
            ("fantasy",),
            ("new-genre",),
        ]
        assert slugs(await client.get("/books?genre=new-genre")) == ["tehanu"]


async def test_patch_refusing_children_points_inside_the_envelope(
    model: Model, database_url: str
) -> None:
    async with served(model, database_url, jwt_secret=SECRET) as client:
        await seed(client)
        await book(client, EARTHSEA, genres=["fantasy"])
        response = await client.patch(
            "/books/a-wizard-of-earthsea", json={"book": {"genreList": ["sf"]}}
        )
        problem(response, 422)
        assert pointers(response) == ["#/book/genreList"]


# ----------------------------------------------------- 6. alternate keys and derive


async def test_slug_is_derived_from_the_title_and_made_unique(
    model: Model, database_url: str
) -> None:
    async with served(model, database_url, jwt_secret=SECRET) as client:
        await seed(client)
        expected = ["a-wizard-of-earthsea", "a-wizard-of-earthsea-2", "a-wizard-of-earthsea-3"]
        for author_id, slug in zip((1, 1, 2), expected, strict=True):
            response = await client.post(
                "/books", json={"book": {"title": EARTHSEA, "authorId": author_id}}
            )
            assert response.status_code == 201, response.text
            assert response.json()["book"]["slug"] == slug
            assert response.headers["location"] == f"/books/{slug}"
            got = await client.get(response.headers["location"])
            assert got.status_code == 200 and got.json()["book"]["authorId"] == author_id

        renamed = await client.patch(
            "/books/a-wizard-of-earthsea-2", json={"book": {"title": "Tehanu"}}
        )
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["book"]["slug"] == "a-wizard-of-earthsea-2"  # derived on create
        assert renamed.json()["book"]["title"] == "Tehanu"
        assert renamed.json()["book"]["updatedAt"] > renamed.json()["book"]["createdAt"]

        assert problem(await client.get("/books/unknown"), 404)["instance"] == "/books/unknown"
        problem(await client.patch("/books/unknown", json={"book": {"title": "X"}}), 404)
        author = await client.get("/authors/butler")
        assert author.status_code == 200 and author.json()["name"] == "Octavia E. Butler"
        created_author = await client.post("/authors", json={"handle": "jemisin", "name": "N."})
        assert created_author.headers["location"] == "/authors/jemisin"

        assert (await client.delete("/books/a-wizard-of-earthsea-3")).status_code == 204
        problem(await client.get("/books/a-wizard-of-earthsea-3"), 404)


# --------------------------------------------------------------- 7. computed fields


async def test_computed_fields_filter_and_sort(model: Model, database_url: str) -> None:
    async with served(model, database_url, jwt_secret=SECRET) as client:
        await seed(client)
        await created(client, "/users", {"username": "cy"})
        for title, wishers in (("None", []), ("Three", [1, 2, 3]), ("One", [2])):
            await book(client, title)
            for user in wishers:
                wished = await client.post(
                    f"/books/{title.lower()}/wishlist", headers=as_user(user)
                )
                assert wished.status_code == 200, wished.text

        counts = {
            b["slug"]: b["wishlistedCount"] for b in (await client.get("/books")).json()["books"]
        }
        assert counts == {"none": 0, "three": 3, "one": 1}

        one = (await client.get("/books?wishlistedCount=1")).json()
        assert [b["slug"] for b in one["books"]] == ["one"] and one["booksCount"] == 1
        assert slugs(await client.get("/books?wishlistedCount=0")) == ["none"]
        assert slugs(await client.get("/books?sort=-wishlistedCount")) == ["three", "one", "none"]
        assert slugs(await client.get("/books?sort=wishlistedCount")) == ["none", "one", "three"]
        problem(await client.get("/books?sort=bogus"), 422)

        authors = {
            a["handle"]: a["booksCount"] for a in (await client.get("/authors")).json()["data"]
        }
        assert authors == {"le-guin": 3, "butler": 0}


# ------------------------------------------------------------------- 8. envelopes


async def test_envelopes_wrap_requests_and_responses(model: Model, database_url: str) -> None:
    async with app_and_client(model, database_url) as (app, client):
        await seed(client)
        bare = await client.post("/books", json={"title": EARTHSEA, "authorId": 1})
        assert "book" in problem(bare, 422)["errors"][0]["detail"] and pointers(bare) == ["#"]
        assert await scalar(app, "select count(*) from books") == 0

        for title in (EARTHSEA, "Kindred", "Tehanu"):
            response = await client.post("/books", json={"book": {"title": title, "authorId": 1}})
            assert response.status_code == 201 and set(response.json()) == {"book"}

        bare_patch = await client.patch("/books/kindred", json={"title": "X"})
        assert "book" in problem(bare_patch, 422)["errors"][0]["detail"]
        patched = await client.patch("/books/kindred", json={"book": {"title": "Kindred!"}})
        assert patched.status_code == 200 and set(patched.json()) == {"book"}
        assert patched.json()["book"]["title"] == "Kindred!"
        assert set((await client.get("/books/kindred")).json()) == {"book"}

        page = await client.get("/books?limit=1")
        assert page.status_code == 200 and set(page.json()) == {"books", "booksCount"}
        assert len(page.json()["books"]) == 1 and page.json()["booksCount"] == 3
        rest = (await client.get("/books?limit=2&offset=1")).json()
        assert len(rest["books"]) == 2 and rest["booksCount"] == 3
        everything = {b["slug"] for b in page.json()["books"] + rest["books"]}
        assert everything == {"a-wizard-of-earthsea", "kindred", "tehanu"}

        authors = await client.get("/authors?limit=1")
        assert authors.status_code == 200 and set(authors.json()) == {"data", "meta", "links"}
        assert len(authors.json()["data"]) == 1 and authors.json()["meta"] == {"total": 2}
        assert authors.json()["data"][0]["handle"] in ("le-guin", "butler")
        # `links.next` is a URI in the schema: it gets the next page's URL, not a bare token
        next_url = authors.json()["links"]["next"]
        assert next_url == "/authors?limit=1&offset=1"
        assert authors.headers["link"] == f'<{next_url}>; rel="next"'
        last = (await client.get(next_url)).json()
        assert last["links"] == {"next": None} and len(last["data"]) == 1
        assert last["data"][0]["handle"] != authors.json()["data"][0]["handle"]


# ----------------------------------------------------- 9. filters across relations


async def test_filters_follow_relations(model: Model, database_url: str) -> None:
    async with served(model, database_url, jwt_secret=SECRET) as client:
        await seed(client)
        await book(client, EARTHSEA, genres=["fantasy"])
        await book(client, "The Dispossessed", genres=["sf"])
        await book(client, "Kindred", author_id=2, genres=["sf", "fantasy"])
        for slug, user in (("kindred", 2), ("the-dispossessed", 2), ("kindred", 1)):
            wished = await client.post(f"/books/{slug}/wishlist", headers=as_user(user))
            assert wished.status_code == 200

        def matches(response: httpx.Response) -> tuple[set[str], int]:
            assert response.status_code == 200, response.text
            return set(slugs(response)), response.json()["booksCount"]

        assert matches(await client.get("/books?author=le-guin")) == (
            {"a-wizard-of-earthsea", "the-dispossessed"},
            2,
        )
        assert matches(await client.get("/books?author=butler")) == ({"kindred"}, 1)
        assert matches(await client.get("/books?genre=fantasy")) == (
            {"a-wizard-of-earthsea", "kindred"},
            2,
        )
        assert matches(await client.get("/books?wishlistedBy=bob")) == (
            {"kindred", "the-dispossessed"},
            2,
        )
        assert matches(await client.get("/books?wishlistedBy=ana")) == ({"kindred"}, 1)
        assert matches(await client.get("/books?author=le-guin&genre=sf")) == (
            {"the-dispossessed"},
            1,
        )
        assert matches(await client.get("/books?genre=sf&wishlistedBy=ana")) == ({"kindred"}, 1)
        page = await client.get("/books?genre=sf&limit=1")
        assert len(page.json()["books"]) == 1 and page.json()["booksCount"] == 2
        for query in ("author=nobody", "genre=poetry", "wishlistedBy=cy", "author=butler&genre=x"):
            response = await client.get(f"/books?{query}")
            assert response.status_code == 200
            assert response.json() == {"books": [], "booksCount": 0}


# ---------------------------------------------------------------- 10. contract errors

SHOP_DBML = """\
Table authors {
  id integer [pk, increment]
  name varchar(100) [not null]
}

Table books {
  id integer [pk, increment]
  title varchar(200) [not null]
  author_id integer [not null]
}

Table reviews {
  id integer [pk, increment]
  book_id integer [not null]
  stars integer [not null]
}

Table loans {
  id integer [pk, increment]
  book_id integer [not null]
  days integer [not null]
}

Ref: books.author_id > authors.id
Ref: reviews.book_id > books.id
Ref: loans.book_id > books.id
"""

SHOP_API = """\
openapi: 3.1.0
info: {title: Shop, version: "1"}
x-backsmith: {dbml: schema.dbml}
paths:
  /books:
    get:
      operationId: listBooks
      responses:
        '200':
          description: Books.
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Book'}}
components:
  schemas:
    Book:
      type: object
      x-backsmith:
        computed:
          reviewsCount: {count: reviews}
      properties:
        id: {type: integer, readOnly: true}
        title: {type: string}
        reviewsCount: {type: integer, readOnly: true}
        score: {type: integer, readOnly: true, x-backsmith: {sum: reviews.stars * reviews.stars}}
        authorName: {type: string, readOnly: true, x-backsmith: {embed: author.name}}
"""


def shop(tmp_path: Path, old: str = "", new: str = "") -> Path:
    assert old in SHOP_API
    write_file(tmp_path, "schema.dbml", SHOP_DBML)
    return write_file(tmp_path, "api.yaml", SHOP_API.replace(old, new, 1))


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def test_the_valid_shop_contract_loads(tmp_path: Path) -> None:
    """The base of the broken contracts below: each error comes from its one change."""
    loaded = load_model(shop(tmp_path))
    assert loaded.resources["books"].table == "books"
    assert [op.operation_id for op in loaded.operations] == ["listBooks"]


@pytest.mark.parametrize(
    ("old", "new", "pointer", "words"),
    [
        pytest.param(
            "reviewsCount: {count: reviews}",
            "reviewsCount: {count: nothing}",
            "#/components/schemas/Book/x-backsmith/computed/reviewsCount",
            ["'nothing'", "no to-many relation of books", "reviews"],
            id="count-names-no-relation",
        ),
        pytest.param(
            "{sum: reviews.stars * reviews.stars}",
            "{sum: reviews.stars * loans.days}",
            "#/components/schemas/Book/properties/score/x-backsmith/sum",
            ["every term of a sum must come from the same relation"],
            id="sum-over-two-relations",
        ),
        pytest.param(
            "{embed: author.name}",
            "{embed: nothing.name}",
            "#/components/schemas/Book/properties/authorName/x-backsmith/embed",
            ["'nothing.name'", "names no relation of books", "author"],
            id="embed-names-no-relation",
        ),
        pytest.param(
            "title: {type: string}",
            "title: {type: string, x-backsmith: {colum: title}}",
            "#/components/schemas/Book/properties/title/x-backsmith/colum",
            ["unknown x-backsmith key 'colum'", "did you mean 'column'?"],
            id="unknown-property-key",
        ),
    ],
)
def test_relation_vocabulary_errors_name_file_line_and_pointer(
    tmp_path: Path, old: str, new: str, pointer: str, words: list[str]
) -> None:
    path = shop(tmp_path, old, new)
    with pytest.raises(ContractError) as caught:
        load_model(path)
    rendered = [issue.render() for issue in caught.value.issues]
    assert len(rendered) == 1, rendered
    assert rendered[0].startswith(f"{path}:{line_of(path, new)}: error at {pointer}: "), rendered[0]
    for word in words:
        assert word in rendered[0]
    assert rendered[0] in str(caught.value)


async def test_a_refused_write_points_at_the_property_the_database_names(
    model: Model, database_url: str
) -> None:
    async with served(model, database_url) as client:
        await seed(client)
        duplicate = await client.post("/authors", json={"handle": "butler", "name": "Again"})
        problem(duplicate, 409)
        assert pointers(duplicate) == ["#/handle"]  # camelCase-free: the property is the column
        missing = await client.post("/books", json={"book": {"title": "X", "authorId": 99}})
        problem(missing, 422)
        if database_url.startswith("postgresql"):  # SQLite's message names no column
            assert pointers(missing) == ["#/book/authorId"]
