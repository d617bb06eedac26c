"""A full round trip through every bookshop resource, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from conftest import client_for, served, start_app, stop_app

from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

BOOK = {
    "title": "A Wizard of Earthsea",
    "isbn": "9780553383041",
    "genres": ["fantasy"],
    "price_cents": 899,
}
SECRET = "bookshop-crud-test-secret-of-32-bytes+"
MISSING_UUID = "0190a3f2-0000-7000-8000-000000000000"


async def _author(client: httpx.AsyncClient, name: str = "Ursula K. Le Guin") -> dict:
    response = await client.post("/authors", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


async def test_authors_round_trip(bookshop: httpx.AsyncClient) -> None:
    created = await bookshop.post(
        "/authors", json={"name": "Ursula K. Le Guin", "born": "1929-10-21"}
    )
    assert created.status_code == 201
    author = created.json()
    assert created.headers["location"] == f"/authors/{author['id']}"
    assert author["name"] == "Ursula K. Le Guin" and author["born"] == "1929-10-21"
    assert author["bio"] is None
    assert author["created_at"].endswith("Z")

    read = await bookshop.get(created.headers["location"])
    assert read.status_code == 200 and read.json() == author

    patched = await bookshop.patch(
        f"/authors/{author['id']}",
        content=b'{"bio": "Wrote Earthsea."}',
        headers={"content-type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200
    assert patched.json()["bio"] == "Wrote Earthsea." and patched.json()["name"] == author["name"]

    replaced = await bookshop.put(f"/authors/{author['id']}", json={"name": "U. K. Le Guin"})
    assert replaced.status_code == 200
    assert replaced.json()["name"] == "U. K. Le Guin"
    assert replaced.json()["bio"] is None  # PUT replaces: absent fields are cleared
    assert replaced.json()["created_at"] == author["created_at"]

    listed = await bookshop.get("/authors")
    assert listed.status_code == 200 and [a["id"] for a in listed.json()] == [author["id"]]

    deleted = await bookshop.delete(f"/authors/{author['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert (await bookshop.get(f"/authors/{author['id']}")).status_code == 404


async def test_books_round_trip_with_defaults_and_server_fields(
    bookshop: httpx.AsyncClient,
) -> None:
    author = await _author(bookshop)
    created = await bookshop.post("/books", json={**BOOK, "author_id": author["id"]})
    assert created.status_code == 201, created.text
    book = created.json()
    assert book["in_stock"] is True and book["tags"] == []  # defaults from the contract
    assert len(book["id"]) == 36 and book["id"][14] == "7"  # a server-generated UUIDv7
    assert book["created_at"] == book["updated_at"]
    assert book["slug"] == "a-wizard-of-earthsea"  # derived from the title
    assert created.headers["location"] == f"/books/{book['slug']}"
    assert (await bookshop.get(created.headers["location"])).json() == book

    patched = await bookshop.patch(
        f"/books/{book['slug']}", json={"price_cents": 999, "tags": ["classic"]}
    )
    assert patched.status_code == 200
    assert patched.json()["price_cents"] == 999 and patched.json()["tags"] == ["classic"]
    assert patched.json()["updated_at"] > book["updated_at"]

    nested = await bookshop.get(f"/authors/{author['id']}/books")
    assert nested.status_code == 200
    assert [b["id"] for b in nested.json()["items"]] == [book["id"]]

    assert (await bookshop.delete(f"/books/{book['slug']}")).status_code == 204
    assert (await bookshop.get(f"/books/{book['slug']}")).status_code == 404


async def test_nested_create_takes_the_parent_from_the_path(bookshop: httpx.AsyncClient) -> None:
    author = await _author(bookshop)
    created = await bookshop.post(f"/authors/{author['id']}/books", json=BOOK)
    assert created.status_code == 201, created.text
    assert created.json()["author_id"] == author["id"]
    other = await _author(bookshop, "Octavia E. Butler")
    assert (await bookshop.get(f"/authors/{other['id']}/books")).json()["items"] == []


async def test_customers_orders_and_lines(bookshop: httpx.AsyncClient) -> None:
    customer = await bookshop.post("/customers", json={"email": "ana@example.com", "name": "Ana"})
    assert customer.status_code == 201, customer.text
    assert customer.json()["tier"] == "standard"
    customer_id = customer.json()["id"]

    order = await bookshop.post("/orders", json={"customer_id": customer_id})
    assert order.status_code == 201, order.text
    assert order.json()["status"] == "pending"
    order_id = order.json()["id"]

    author = await _author(bookshop)
    book = (await bookshop.post("/books", json={**BOOK, "author_id": author["id"]})).json()
    line = await bookshop.post(
        f"/orders/{order_id}/lines",
        json={"book_id": book["id"], "quantity": 2, "unit_price_cents": 899},
    )
    assert line.status_code == 201, line.text
    assert line.json()["order_id"] == order_id
    assert line.headers["location"] == f"/orders/{order_id}/lines/{line.json()['id']}"
    lines = await bookshop.get(f"/orders/{order_id}/lines")
    assert [x["id"] for x in lines.json()] == [line.json()["id"]]
    got = await bookshop.get(line.headers["location"])
    assert got.status_code == 200 and got.json()["quantity"] == 2
    patched = await bookshop.patch(line.headers["location"], json={"quantity": 3})
    assert patched.json()["quantity"] == 3

    paid = await bookshop.patch(f"/orders/{order_id}", json={"status": "paid"})
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    page = await bookshop.get("/orders", params={"status": "paid"})
    assert page.json()["total"] == 1 and page.json()["items"][0]["id"] == order_id

    # Deleting the customer cascades to its orders and their lines.
    assert (await bookshop.delete(f"/customers/{customer_id}")).status_code == 204
    assert (await bookshop.get(f"/orders/{order_id}")).status_code == 404
    assert (await bookshop.get(line.headers["location"])).status_code == 404


async def test_a_line_is_not_found_under_another_order(bookshop: httpx.AsyncClient) -> None:
    customer = (
        await bookshop.post("/customers", json={"email": "b@example.com", "name": "B"})
    ).json()
    first = (await bookshop.post("/orders", json={"customer_id": customer["id"]})).json()
    second = (await bookshop.post("/orders", json={"customer_id": customer["id"]})).json()
    author = await _author(bookshop)
    book = (await bookshop.post("/books", json={**BOOK, "author_id": author["id"]})).json()
    line = (
        await bookshop.post(
            f"/orders/{first['id']}/lines",
            json={"book_id": book["id"], "quantity": 1, "unit_price_cents": 1},
        )
    ).json()
    assert (await bookshop.get(f"/orders/{second['id']}/lines/{line['id']}")).status_code == 404
    assert (await bookshop.delete(f"/orders/{second['id']}/lines/{line['id']}")).status_code == 404
    assert (await bookshop.get(f"/orders/{first['id']}/lines/{line['id']}")).status_code == 200


# ------------------------------------------------------------------ v1.1.0: slugs, embeds
async def _book(client: httpx.AsyncClient, author_id: int, **fields: Any) -> dict[str, Any]:
    response = await client.post("/books", json={**BOOK, "author_id": author_id, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_books_are_addressed_by_slug_and_a_repeated_title_gets_a_suffix(
    bookshop: httpx.AsyncClient,
) -> None:
    author = await _author(bookshop)
    first = await _book(bookshop, author["id"])
    again = await bookshop.post(
        f"/authors/{author['id']}/books", json={**BOOK, "isbn": "9780553383042"}
    )
    assert again.status_code == 201, again.text
    second = again.json()
    assert (first["slug"], second["slug"]) == ("a-wizard-of-earthsea", "a-wizard-of-earthsea-2")
    assert again.headers["location"] == "/books/a-wizard-of-earthsea-2"
    assert second["title"] == first["title"] and second["id"] != first["id"]

    for book in (first, second):
        got = await bookshop.get(f"/books/{book['slug']}")
        assert got.status_code == 200 and got.json()["id"] == book["id"]
    # The uuid is still in the body, but it no longer addresses the book.
    assert (await bookshop.get(f"/books/{first['id']}")).status_code == 404

    # The slug is derived once, on create: a new title keeps the address.
    renamed = await bookshop.patch(f"/books/{second['slug']}", json={"title": "Tehanu"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["slug"] == "a-wizard-of-earthsea-2"
    assert (await bookshop.get("/books/a-wizard-of-earthsea-2")).json()["title"] == "Tehanu"

    assert (await bookshop.delete(f"/books/{first['slug']}")).status_code == 204
    assert (await bookshop.get(f"/books/{first['slug']}")).status_code == 404
    assert (await bookshop.get(f"/books/{second['slug']}")).status_code == 200


async def test_a_taken_isbn_is_answered_409_at_once_not_derived_again(
    bookshop_model: Model, database_url: str
) -> None:
    """Only a clash on the slug derives the slug again; an isbn taken is the answer."""
    app = await start_app(bookshop_model, database_url)
    inserts: list[str] = []
    app.database.listeners.append(
        lambda sql: inserts.append(sql) if sql.lstrip().upper().startswith("INSERT") else None
    )
    try:
        async with client_for(app) as client:
            author = await _author(client)
            book = {**BOOK, "author_id": author["id"]}
            assert (await client.post("/books", json=book)).status_code == 201
            inserts.clear()
            again = await client.post("/books", json={**book, "title": "Another title"})
    finally:
        await stop_app(app)
    assert again.status_code == 409, again.text
    assert len(inserts) == 1, inserts


async def test_a_book_embeds_its_author_and_genres(bookshop: httpx.AsyncClient) -> None:
    author = await _author(bookshop)
    book = await _book(bookshop, author["id"], genres=["fantasy", "young-adult"])
    assert book["author_id"] == author["id"]
    assert book["author"] == {"id": author["id"], "name": "Ursula K. Le Guin"}
    assert sorted(book["genres"]) == ["fantasy", "young-adult"]  # "young-adult" is created
    assert (book["wishlisted_count"], book["wishlisted"]) == (0, False)
    no_genres = {k: v for k, v in BOOK.items() if k != "genres"}
    bare = await bookshop.post(
        "/books", json={**no_genres, "isbn": "9780553383042", "author_id": author["id"]}
    )
    assert bare.status_code == 201, bare.text
    assert bare.json()["genres"] == []  # genres are optional

    # The embedded author is read, not copied: renaming the author shows in the book.
    await bookshop.patch(f"/authors/{author['id']}", json={"name": "U. K. Le Guin"})
    got = (await bookshop.get(f"/books/{book['slug']}")).json()
    assert got["author"] == {"id": author["id"], "name": "U. K. Le Guin"}

    # PATCH with genres replaces the list; the other fields stay.
    patched = await bookshop.patch(f"/books/{book['slug']}", json={"genres": ["classic"]})
    assert patched.status_code == 200, patched.text
    assert patched.json()["genres"] == ["classic"] and patched.json()["title"] == BOOK["title"]
    cleared = await bookshop.patch(f"/books/{book['slug']}", json={"genres": []})
    assert cleared.status_code == 200 and cleared.json()["genres"] == []

    # PUT with genres sets them, like a create.
    body = {**BOOK, "author_id": author["id"], "genres": ["poetry", "fantasy"]}
    replaced = await bookshop.put(f"/books/{book['slug']}", json=body)
    assert replaced.status_code == 200, replaced.text
    assert sorted(replaced.json()["genres"]) == ["fantasy", "poetry"]
    assert replaced.json()["author"]["id"] == author["id"]


async def test_put_without_genres_clears_them(bookshop: httpx.AsyncClient) -> None:
    author = await _author(bookshop)
    book = await _book(bookshop, author["id"], genres=["fantasy"], tags=["classic"])
    no_genres = {k: v for k, v in BOOK.items() if k != "genres"}
    replaced = await bookshop.put(
        f"/books/{book['slug']}", json={**no_genres, "author_id": author["id"]}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["tags"] == []  # absent: back to the contract's default
    assert replaced.json()["genres"] == []  # absent: no genres, as on create


async def test_the_genre_filter_goes_through_the_join_table(bookshop: httpx.AsyncClient) -> None:
    author = await _author(bookshop)
    earthsea = await _book(bookshop, author["id"], genres=["fantasy", "classic"])
    tehanu = await _book(
        bookshop, author["id"], title="Tehanu", isbn="9780553383042", genres=["fantasy"]
    )
    kindred = await _book(
        bookshop, author["id"], title="Kindred", isbn="9780553383043", genres=["science-fiction"]
    )

    async def filed_under(genre: str) -> list[str]:
        response = await bookshop.get("/books", params={"genre": genre, "limit": 100})
        assert response.status_code == 200, response.text
        return sorted(b["slug"] for b in response.json()["items"])

    # A genre shared by two books is one row of `genres`: each book is listed once.
    assert await filed_under("fantasy") == sorted([earthsea["slug"], tehanu["slug"]])
    assert await filed_under("classic") == [earthsea["slug"]]
    assert await filed_under("science-fiction") == [kindred["slug"]]
    assert await filed_under("poetry") == []
    everything = (await bookshop.get("/books", params={"limit": 100})).json()["items"]
    assert len(everything) == 3  # no join without a filter duplicates a book

    # Re-filing a book moves it between filters.
    patched = await bookshop.patch(f"/books/{tehanu['slug']}", json={"genres": ["poetry"]})
    assert patched.status_code == 200, patched.text
    assert await filed_under("fantasy") == [earthsea["slug"]]
    assert await filed_under("poetry") == [tehanu["slug"]]

    # A deleted book leaves every filter.
    assert (await bookshop.delete(f"/books/{earthsea['slug']}")).status_code == 204
    assert await filed_under("fantasy") == [] and await filed_under("classic") == []


# ------------------------------------------------------------------ v1.1.0: wishlists
def _as(customer_id: str) -> dict[str, str]:
    """Headers of a request acting for `customer_id`."""
    claims = {"sub": customer_id, "exp": time.time() + 600}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


@pytest.fixture
async def shop(bookshop_model: Model, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The bookshop with a JWT secret, so bearer tokens can name a customer."""
    async with served(bookshop_model, database_url, jwt_secret=SECRET) as client:
        yield client


async def _customer(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await client.post("/customers", json={"email": email, "name": email[0]})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_wishlist_add_and_remove_for_two_customers(shop: httpx.AsyncClient) -> None:
    author = await _author(shop)
    book = await _book(shop, author["id"])
    other = await _book(shop, author["id"], title="Tehanu", isbn="9780553383042")
    ana, bo = await _customer(shop, "ana@example.com"), await _customer(shop, "bo@example.com")
    path = f"/books/{book['slug']}/wishlist"

    async def seen_by(headers: dict[str, str]) -> tuple[int, bool]:
        got = (await shop.get(f"/books/{book['slug']}", headers=headers)).json()
        return got["wishlisted_count"], got["wishlisted"]

    added = await shop.post(path, headers=_as(ana["id"]))
    assert added.status_code == 200, added.text
    assert added.json()["id"] == book["id"]
    assert (added.json()["wishlisted_count"], added.json()["wishlisted"]) == (1, True)
    assert await seen_by(_as(bo["id"])) == (1, False)
    assert await seen_by({}) == (1, False)  # anonymous: false without a token

    again = await shop.post(path, headers=_as(ana["id"]))  # idempotent
    assert again.status_code == 200 and again.json()["wishlisted_count"] == 1
    by_bo = await shop.post(path, headers=_as(bo["id"]))
    assert (by_bo.json()["wishlisted_count"], by_bo.json()["wishlisted"]) == (2, True)
    assert await seen_by(_as(ana["id"])) == (2, True)

    # Lists say, per book, whether the caller wishlisted it.
    listed = (await shop.get("/books", headers=_as(ana["id"]))).json()["items"]
    assert {b["slug"]: b["wishlisted"] for b in listed} == {
        book["slug"]: True,
        other["slug"]: False,
    }
    by_count = (await shop.get("/books", params={"sort": "-wishlisted_count"})).json()["items"]
    assert [b["slug"] for b in by_count] == [book["slug"], other["slug"]]

    removed = await shop.delete(path, headers=_as(ana["id"]))
    assert removed.status_code == 200, removed.text
    assert (removed.json()["wishlisted_count"], removed.json()["wishlisted"]) == (1, False)
    assert await seen_by(_as(bo["id"])) == (1, True)
    removed_again = await shop.delete(path, headers=_as(ana["id"]))  # idempotent
    assert removed_again.status_code == 200 and removed_again.json()["wishlisted_count"] == 1

    missing = await shop.post("/books/no-such-book/wishlist", headers=_as(ana["id"]))
    assert missing.status_code == 404, missing.text


async def test_wishlist_needs_a_valid_token(shop: httpx.AsyncClient) -> None:
    author = await _author(shop)
    book = await _book(shop, author["id"])
    ana = await _customer(shop, "ana@example.com")
    path = f"/books/{book['slug']}/wishlist"
    for method in ("POST", "DELETE"):
        response = await shop.request(method, path)
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")

    expired = {"sub": ana["id"], "exp": time.time() - 3600}
    forged = {"sub": ana["id"], "exp": time.time() + 600}
    refused = [
        f"Bearer {jwt.encode(expired, SECRET, algorithm='HS256')}",
        f"Bearer {jwt.encode(forged, 'another-secret-of-at-least-32-bytes', algorithm='HS256')}",
        _as(MISSING_UUID)["Authorization"],  # a valid token naming no customer
    ]
    for header in refused:
        response = await shop.post(path, headers={"Authorization": header})
        assert response.status_code == 401, (header, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")
    got = (await shop.get(f"/books/{book['slug']}", headers=_as(ana["id"]))).json()
    assert (got["wishlisted_count"], got["wishlisted"]) == (0, False)  # nothing was written


# ------------------------------------------------------------------ v1.1.0: order lines
async def test_an_order_created_with_lines_embeds_them_and_totals_them(
    bookshop: httpx.AsyncClient,
) -> None:
    customer = await _customer(bookshop, "ana@example.com")
    author = await _author(bookshop)
    earthsea = await _book(bookshop, author["id"])
    tehanu = await _book(bookshop, author["id"], title="Tehanu", isbn="9780553383042")
    lines = [
        {"book_id": earthsea["id"], "quantity": 2, "unit_price_cents": 899},
        {"book_id": tehanu["id"], "quantity": 3, "unit_price_cents": 1299},
    ]
    created = await bookshop.post("/orders", json={"customer_id": customer["id"], "lines": lines})
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["total_cents"] == 2 * 899 + 3 * 1299
    assert [
        {k: line[k] for k in ("book_id", "quantity", "unit_price_cents")} for line in order["lines"]
    ] == lines
    assert all(line["order_id"] == order["id"] for line in order["lines"])
    assert created.headers["location"] == f"/orders/{order['id']}"

    assert (await bookshop.get(f"/orders/{order['id']}")).json() == order
    stored = (await bookshop.get(f"/orders/{order['id']}/lines")).json()
    assert sorted(line["id"] for line in stored) == sorted(line["id"] for line in order["lines"])
    listed = (await bookshop.get("/orders")).json()
    assert listed["total"] == 1 and listed["items"] == [order]

    # The total follows the lines.
    first = order["lines"][0]
    await bookshop.patch(f"/orders/{order['id']}/lines/{first['id']}", json={"quantity": 1})
    assert (await bookshop.get(f"/orders/{order['id']}")).json()["total_cents"] == 899 + 3 * 1299
    empty = await bookshop.post("/orders", json={"customer_id": customer["id"]})
    assert (empty.json()["lines"], empty.json()["total_cents"]) == ([], 0)


async def test_one_bad_line_rejects_the_whole_order(bookshop: httpx.AsyncClient) -> None:
    customer = await _customer(bookshop, "ana@example.com")
    author = await _author(bookshop)
    book = await _book(bookshop, author["id"])
    lines = [
        {"book_id": book["id"], "quantity": 1, "unit_price_cents": 899},
        {"book_id": MISSING_UUID, "quantity": 1, "unit_price_cents": 1},
    ]
    response = await bookshop.post("/orders", json={"customer_id": customer["id"], "lines": lines})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["pointer"] for e in response.json()["errors"]] == ["#/lines/1"]
    assert (await bookshop.get("/orders")).json()["total"] == 0  # no order, no first line
