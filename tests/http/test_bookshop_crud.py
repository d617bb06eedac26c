"""A full round trip through every bookshop resource, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio

BOOK = {
    "title": "A Wizard of Earthsea",
    "isbn": "9780553383041",
    "genre": "fantasy",
    "price_cents": 899,
}


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

    patched = await bookshop.patch(
        f"/books/{book['id']}", json={"price_cents": 999, "tags": ["classic"]}
    )
    assert patched.status_code == 200
    assert patched.json()["price_cents"] == 999 and patched.json()["tags"] == ["classic"]
    assert patched.json()["updated_at"] > book["updated_at"]

    nested = await bookshop.get(f"/authors/{author['id']}/books")
    assert nested.status_code == 200
    assert [b["id"] for b in nested.json()["items"]] == [book["id"]]

    assert (await bookshop.delete(f"/books/{book['id']}")).status_code == 204
    assert (await bookshop.get(f"/books/{book['id']}")).status_code == 404


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
