"""List operations of the bookshop on SQLite and PostgreSQL: cursors, pages, filters and sort.

Cursor walks must see every row that existed when the walk started exactly once, even
while other requests insert rows between and alongside the page requests.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from conftest import served, write_file

from backsmith.api import load_model
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

_ISBN = itertools.count(9780000000000)
_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


async def _author(client: httpx.AsyncClient, name: str = "Ursula K. Le Guin") -> dict[str, Any]:
    response = await client.post("/authors", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


async def _book(client: httpx.AsyncClient, author_id: int, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "book",
        "isbn": str(next(_ISBN)),
        "author_id": author_id,
        "genres": ["fiction"],
        "price_cents": 1000,
        **fields,
    }
    response = await client.post("/books", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def _books(
    client: httpx.AsyncClient, author_id: int, count: int, **fields: Any
) -> list[dict[str, Any]]:
    return [await _book(client, author_id, **fields) for _ in range(count)]


async def _customer(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await client.post("/customers", json={"email": email, "name": email.split("@")[0]})
    assert response.status_code == 201, response.text
    return response.json()


async def _order(client: httpx.AsyncClient, customer_id: str, status: str) -> dict[str, Any]:
    response = await client.post("/orders", json={"customer_id": customer_id, "status": status})
    assert response.status_code == 201, response.text
    return response.json()


async def _walk(
    client: httpx.AsyncClient, path: str, params: dict[str, Any] | None = None
) -> list[list[dict[str, Any]]]:
    """Every page of a cursor-paginated envelope list, following `next_cursor`."""
    pages: list[list[dict[str, Any]]] = []
    query = dict(params or {})
    while True:
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        if body["next_cursor"] is None:
            return pages
        assert len(pages) < 1000, "the walk does not end"
        query["cursor"] = body["next_cursor"]


def _ids(items: list[dict[str, Any]]) -> list[Any]:
    return [item["id"] for item in items]


def _created_key(item: dict[str, Any]) -> tuple[datetime, str]:
    return datetime.fromisoformat(item["created_at"]), item["id"]


def _newest_first(items: list[dict[str, Any]]) -> bool:
    """Each item created no later than the one before it. Answers show milliseconds and
    rows keep microseconds, so two rows of one millisecond may come in either id order."""
    stamps = [_created_key(item)[0] for item in items]
    return stamps == sorted(stamps, reverse=True)


def _assert_cursor_problem(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert {"parameter": "cursor", "in": "query"}.items() <= problem["errors"][0].items()


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()


# ------------------------------------------------------------- cursor walks
async def test_cursor_walk_sees_every_book_exactly_once(bookshop: httpx.AsyncClient) -> None:
    author = await _author(bookshop)
    created = await _books(bookshop, author["id"], 45)

    pages = await _walk(bookshop, "/books", {"limit": 10})

    assert [len(page) for page in pages] == [10, 10, 10, 10, 5]
    seen = [item for page in pages for item in page]
    assert len(set(_ids(seen))) == 45
    assert sorted(_ids(seen)) == sorted(_ids(created))
    # The default order is newest first (ties broken by id, at the rows' microseconds).
    assert _newest_first(seen)


async def test_next_cursor_is_null_on_the_last_page(bookshop: httpx.AsyncClient) -> None:
    author = await _author(bookshop)
    await _books(bookshop, author["id"], 10)

    exact = await bookshop.get("/books", params={"limit": 10})
    assert len(exact.json()["items"]) == 10
    assert exact.json()["next_cursor"] is None  # a full last page has no next page

    first = (await bookshop.get("/books", params={"limit": 4})).json()
    assert len(first["items"]) == 4 and isinstance(first["next_cursor"], str)
    second = (
        await bookshop.get("/books", params={"limit": 4, "cursor": first["next_cursor"]})
    ).json()
    last = (
        await bookshop.get("/books", params={"limit": 4, "cursor": second["next_cursor"]})
    ).json()
    assert len(last["items"]) == 2 and last["next_cursor"] is None

    empty = (await bookshop.get("/books", params={"genre": "poetry"})).json()
    assert empty == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("sort", [None, "price_cents"])
async def test_cursor_walk_is_exact_under_concurrent_inserts(
    bookshop: httpx.AsyncClient, sort: str | None
) -> None:
    author = await _author(bookshop)
    # Prices spread over 0..290 so that, sorted by price, new books land on both sides.
    before = [await _book(bookshop, author["id"], price_cents=i * 10) for i in range(30)]
    existing = set(_ids(before))
    params: dict[str, Any] = {"limit": 7}
    if sort:
        params["sort"] = sort

    seen: list[dict[str, Any]] = []
    inserted: list[dict[str, Any]] = []
    price = itertools.count(5, 37)
    for _ in range(1000):
        inserted.extend(await _books(bookshop, author["id"], 2, price_cents=next(price) % 300))
        page_request = bookshop.get("/books", params=params)
        response, *concurrent = await asyncio.gather(
            page_request,
            *(_book(bookshop, author["id"], price_cents=next(price) % 300) for _ in range(3)),
        )
        inserted.extend(concurrent)
        assert response.status_code == 200, response.text
        body = response.json()
        seen.extend(body["items"])
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    else:
        pytest.fail("the walk did not end after 1000 pages")

    ids = _ids(seen)
    assert len(ids) == len(set(ids)), "a row was seen twice"
    assert existing <= set(ids), "a row that existed before the walk was missed"
    assert set(ids) <= existing | set(_ids(inserted))
    # Keyset pages concatenate to one strictly ordered sequence.
    if sort:
        keys: list[Any] = [(item["price_cents"], item["id"]) for item in seen]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
    else:
        assert _newest_first(seen) and len(set(_ids(seen))) == len(seen)
    after = [book for page in await _walk(bookshop, "/books", {"limit": 100}) for book in page]
    assert len(after) == 30 + len(inserted)


# ------------------------------------------------------------- page sizes
async def test_limit_defaults_to_20_and_the_contract_maximum_is_enforced(
    bookshop: httpx.AsyncClient,
) -> None:
    author = await _author(bookshop)
    await _books(bookshop, author["id"], 25)

    default = (await bookshop.get("/books")).json()
    assert len(default["items"]) == 20 and default["next_cursor"] is not None
    rest = (await bookshop.get("/books", params={"cursor": default["next_cursor"]})).json()
    assert len(rest["items"]) == 5 and rest["next_cursor"] is None

    hundred = (await bookshop.get("/books", params={"limit": 100})).json()
    assert len(hundred["items"]) == 25

    for bad in ("101", "0", "-1", "ten"):
        response = await bookshop.get("/books", params={"limit": bad})
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        errors = response.json()["errors"]
        assert errors and all(e["parameter"] == "limit" and e["in"] == "query" for e in errors)


@pytest.fixture
async def capped(bookshop_model: Model, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The bookshop with a server page cap of 5, below the contract's maximum of 100."""
    async with served(bookshop_model, database_url, max_page_size=5) as client:
        yield client


async def test_the_server_page_cap_bounds_every_page(capped: httpx.AsyncClient) -> None:
    author = await _author(capped)
    created = await _books(capped, author["id"], 12)

    asked = (await capped.get("/books", params={"limit": 50})).json()
    assert len(asked["items"]) == 5 and asked["next_cursor"] is not None
    default = (await capped.get("/books")).json()
    assert len(default["items"]) == 5  # the default of 20 is capped too

    pages = await _walk(capped, "/books", {"limit": 50})
    assert [len(page) for page in pages] == [5, 5, 2]
    assert sorted(_ids([b for page in pages for b in page])) == sorted(_ids(created))

    for name in ("B", "C", "D", "E", "F", "G"):
        await _author(capped, name)
    authors = await capped.get("/authors", params={"limit": 50})
    assert len(authors.json()) == 5 and 'rel="next"' in authors.headers["link"]


# ------------------------------------------------------------- bad cursors
async def test_a_cursor_from_another_sort_order_is_refused(bookshop: httpx.AsyncClient) -> None:
    author = await _author(bookshop)
    await _books(bookshop, author["id"], 5)
    by_price = (await bookshop.get("/books", params={"sort": "price_cents", "limit": 2})).json()
    cursor = by_price["next_cursor"]
    assert cursor

    _assert_cursor_problem(await bookshop.get("/books", params={"cursor": cursor, "limit": 2}))
    _assert_cursor_problem(
        await bookshop.get("/books", params={"cursor": cursor, "sort": "-price_cents"})
    )
    _assert_cursor_problem(await bookshop.get("/books", params={"cursor": cursor, "sort": "title"}))
    # The same cursor under its own order is fine.
    same = await bookshop.get("/books", params={"cursor": cursor, "sort": "price_cents"})
    assert same.status_code == 200 and len(same.json()["items"]) == 3


async def test_a_cursor_of_another_list_is_refused(bookshop: httpx.AsyncClient) -> None:
    for name in ("A", "B", "C"):
        await _author(bookshop, name)
    response = await bookshop.get("/authors", params={"limit": 1})
    cursor = _LINK_NEXT.search(response.headers["link"])
    assert cursor is not None
    author_cursor = httpx.URL(cursor.group(1)).params["cursor"]
    _assert_cursor_problem(await bookshop.get("/books", params={"cursor": author_cursor}))


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!not base64!!!",
        "e30",  # base64 of {}
        _cursor(["00000000", "2024-01-01T00:00:00+00:00", "0190f0c1-1111-7000-8000-000000000000"]),
    ],
)
async def test_a_garbage_cursor_is_a_422_naming_cursor(
    bookshop: httpx.AsyncClient, cursor: str
) -> None:
    _assert_cursor_problem(await bookshop.get("/books", params={"cursor": cursor}))


async def test_a_tampered_cursor_is_refused(bookshop: httpx.AsyncClient) -> None:
    author = await _author(bookshop)
    await _books(bookshop, author["id"], 3)
    cursor = (await bookshop.get("/books", params={"limit": 1})).json()["next_cursor"]
    signature, created_at, book_id = orjson.loads(
        base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    )
    assert (await bookshop.get("/books", params={"cursor": cursor})).status_code == 200
    for payload in (
        [signature, "not a time", book_id],
        [signature, created_at, "not a uuid"],
        [signature, created_at],
        [signature, created_at, book_id, "extra"],
        {"signature": signature},
    ):
        _assert_cursor_problem(await bookshop.get("/books", params={"cursor": _cursor(payload)}))
    # A key in another form of the same UUID (capitals, braces) is read as that UUID.
    for key in (book_id.upper(), "{" + book_id + "}"):
        again = await bookshop.get(
            "/books", params={"cursor": _cursor([signature, created_at, key])}
        )
        assert again.status_code == 200, again.text
        assert again.json() == (await bookshop.get("/books", params={"cursor": cursor})).json()


# ------------------------------------------------------------- Link header
async def test_bare_array_list_links_to_the_next_page(bookshop: httpx.AsyncClient) -> None:
    created = [await _author(bookshop, f"Author {i:02d}") for i in range(7)]

    response = await bookshop.get("/authors", params={"limit": 3})
    pages = [response.json()]
    while "link" in response.headers:
        found = _LINK_NEXT.search(response.headers["link"])
        assert found is not None, response.headers["link"]
        url = httpx.URL(found.group(1))
        assert url.path == "/authors" and url.params["limit"] == "3"
        response = await bookshop.get(found.group(1))
        assert response.status_code == 200, response.text
        assert isinstance(response.json(), list)
        pages.append(response.json())
        assert len(pages) <= 3, "the Link header points past the last page"
    assert [len(page) for page in pages] == [3, 3, 1]
    seen = [author for page in pages for author in page]
    assert sorted(_ids(seen)) == sorted(_ids(created))
    assert len(set(_ids(seen))) == 7
    assert _newest_first(seen)

    everything = await bookshop.get("/authors", params={"limit": 7})
    assert len(everything.json()) == 7 and "link" not in everything.headers


async def test_the_link_header_keeps_the_filters(bookshop: httpx.AsyncClient) -> None:
    for _ in range(3):
        await _author(bookshop, "Same Name")
    await _author(bookshop, "Other")
    first = await bookshop.get("/authors", params={"name": "Same Name", "limit": 2})
    assert len(first.json()) == 2
    found = _LINK_NEXT.search(first.headers["link"])
    assert found is not None
    assert httpx.URL(found.group(1)).params["name"] == "Same Name"
    second = await bookshop.get(found.group(1))
    assert [a["name"] for a in second.json()] == ["Same Name"]
    assert "link" not in second.headers


# ------------------------------------------------------------- page numbers
async def test_orders_paginate_by_page_number_with_a_total(bookshop: httpx.AsyncClient) -> None:
    customer = await _customer(bookshop, "ana@example.com")
    created = [await _order(bookshop, customer["id"], "pending") for _ in range(7)]

    pages = []
    for number in (1, 2, 3):
        response = await bookshop.get("/orders", params={"page": number, "per_page": 3})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == 7 and body["page"] == number and body["per_page"] == 3
        assert set(body) == {"items", "page", "per_page", "total"}
        pages.append(body["items"])
    assert [len(page) for page in pages] == [3, 3, 1]
    seen = [order for page in pages for order in page]
    assert sorted(_ids(seen)) == sorted(_ids(created)) and len(set(_ids(seen))) == 7
    assert _newest_first(seen)

    beyond = (await bookshop.get("/orders", params={"page": 4, "per_page": 3})).json()
    assert beyond == {"items": [], "page": 4, "per_page": 3, "total": 7}

    default = (await bookshop.get("/orders")).json()
    assert default["page"] == 1 and default["per_page"] == 20 and len(default["items"]) == 7

    for bad in ({"page": 0}, {"per_page": 0}, {"per_page": 101}, {"page": "x"}):
        assert (await bookshop.get("/orders", params=bad)).status_code == 422, bad


async def test_page_number_lists_link_to_the_next_page(bookshop: httpx.AsyncClient) -> None:
    customer = await _customer(bookshop, "ana@example.com")
    for _ in range(5):
        await _order(bookshop, customer["id"], "paid")
    first = await bookshop.get("/orders", params={"per_page": 2, "status": "paid"})
    found = _LINK_NEXT.search(first.headers["link"])
    assert found is not None
    url = httpx.URL(found.group(1))
    assert url.params["page"] == "2" and url.params["status"] == "paid"
    second = (await bookshop.get(found.group(1))).json()
    assert second["page"] == 2 and len(second["items"]) == 2
    last = await bookshop.get("/orders", params={"per_page": 2, "page": 3})
    assert len(last.json()["items"]) == 1 and "link" not in last.headers


# ------------------------------------------------------------- filters
async def test_book_filters_and_their_combinations(bookshop: httpx.AsyncClient) -> None:
    le_guin = await _author(bookshop, "Le Guin")
    butler = await _author(bookshop, "Butler")
    plan: list[tuple[dict[str, Any], list[str], bool]] = [
        (le_guin, ["fantasy"], True),
        (le_guin, ["fantasy"], False),
        (le_guin, ["science-fiction"], True),
        (butler, ["science-fiction"], True),
        (butler, ["science-fiction"], False),
        (butler, ["poetry"], False),
        (butler, ["fantasy"], True),
        # Filed under two genres: found under each, once (the filter goes through a join).
        (le_guin, ["fantasy", "science-fiction"], True),
    ]
    books = [
        await _book(bookshop, author["id"], genres=genres, in_stock=stock)
        for author, genres, stock in plan
    ]

    async def listed(**params: Any) -> set[str]:
        pages = await _walk(bookshop, "/books", {"limit": 2, **params})
        ids = _ids([book for page in pages for book in page])
        assert len(ids) == len(set(ids))
        return set(ids)

    def expected(genre: str | None = None, **where: Any) -> set[str]:
        return {
            b["id"]
            for b in books
            if all(b[k] == v for k, v in where.items()) and (genre is None or genre in b["genres"])
        }

    assert await listed(genre="fantasy") == expected(genre="fantasy")
    assert len(expected(genre="fantasy")) == 4
    assert await listed(genre="science-fiction") == expected(genre="science-fiction")
    assert await listed(author_id=butler["id"]) == expected(author_id=butler["id"])
    assert await listed(in_stock="false") == expected(in_stock=False)
    assert len(expected(in_stock=False)) == 3
    assert await listed(in_stock="true") == expected(in_stock=True)
    assert await listed(genre="science-fiction", in_stock="false") == expected(
        genre="science-fiction", in_stock=False
    )
    assert await listed(genre="fantasy", author_id=le_guin["id"], in_stock="true") == expected(
        genre="fantasy", author_id=le_guin["id"], in_stock=True
    )
    assert await listed(genre="children") == set()
    assert await listed(author_id=butler["id"] + 1000) == set()

    # Genres are free names now: an unknown one is no error, it just files no book.
    assert await listed(genre="cookbooks") == set()
    bad = await bookshop.get("/books", params={"in_stock": "maybe"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["parameter"] == "in_stock"
    bad = await bookshop.get("/books", params={"author_id": "one"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["parameter"] == "author_id"


async def test_order_filters_on_status_and_customer(bookshop: httpx.AsyncClient) -> None:
    ana = await _customer(bookshop, "ana@example.com")
    bo = await _customer(bookshop, "bo@example.com")
    orders = [
        await _order(bookshop, customer["id"], status)
        for customer, status in [
            (ana, "pending"),
            (ana, "paid"),
            (ana, "paid"),
            (bo, "paid"),
            (bo, "shipped"),
        ]
    ]

    async def listed(**params: Any) -> tuple[set[str], int]:
        body = (await bookshop.get("/orders", params={"per_page": 100, **params})).json()
        return set(_ids(body["items"])), body["total"]

    def expected(**where: Any) -> tuple[set[str], int]:
        ids = {o["id"] for o in orders if all(o[k] == v for k, v in where.items())}
        return ids, len(ids)

    assert await listed(status="paid") == expected(status="paid")
    assert await listed(customer_id=ana["id"]) == expected(customer_id=ana["id"])
    assert await listed(status="paid", customer_id=ana["id"]) == expected(
        status="paid", customer_id=ana["id"]
    )
    assert await listed(status="paid", customer_id=bo["id"]) == expected(
        status="paid", customer_id=bo["id"]
    )
    assert await listed(status="cancelled") == (set(), 0)
    paged = (
        await bookshop.get("/orders", params={"status": "paid", "per_page": 2, "page": 2})
    ).json()
    assert paged["total"] == 3 and len(paged["items"]) == 1
    bad = await bookshop.get("/orders", params={"customer_id": "not-a-uuid"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["parameter"] == "customer_id"


# ------------------------------------------------------------- sort
@pytest.mark.parametrize(
    ("sort", "key", "descending"),
    [
        ("price_cents", "price_cents", False),
        ("-price_cents", "price_cents", True),
        ("title", "title", False),
        ("-title", "title", True),
    ],
)
async def test_sorted_cursor_pages_concatenate_to_the_sorted_list(
    bookshop: httpx.AsyncClient, sort: str, key: str, descending: bool
) -> None:
    author = await _author(bookshop)
    prices = [500, 100, 300, 100, 500, 200, 100, 300, 500, 100, 400, 200, 300, 100]
    titles = ["kappa", "alpha", "delta", "alpha", "mu", "beta", "alpha", "delta", "kappa"]
    books = [
        await _book(bookshop, author["id"], price_cents=price, title=titles[i % len(titles)])
        for i, price in enumerate(prices)
    ]

    for limit in (1, 3, 4, 100):
        pages = await _walk(bookshop, "/books", {"sort": sort, "limit": limit})
        seen = [book for page in pages for book in page]
        # Ties are broken by id, in the direction of the sort.
        ordered = sorted(books, key=lambda b: (b[key], b["id"]), reverse=descending)
        assert [(b[key], b["id"]) for b in seen] == [(b[key], b["id"]) for b in ordered], limit
        if limit < len(books):
            assert all(len(page) == limit for page in pages[:-1])


async def test_an_unknown_sort_key_is_refused(bookshop: httpx.AsyncClient) -> None:
    response = await bookshop.get("/books", params={"sort": "isbn"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "sort"


# ------------------------------------------------------------- nested lists
async def test_nested_list_is_scoped_to_its_author(bookshop: httpx.AsyncClient) -> None:
    le_guin = await _author(bookshop, "Le Guin")
    butler = await _author(bookshop, "Butler")
    nobody = await _author(bookshop, "Nobody")
    hers = await _books(bookshop, le_guin["id"], 12)
    theirs = await _books(bookshop, butler["id"], 3)

    pages = await _walk(bookshop, f"/authors/{le_guin['id']}/books", {"limit": 5})
    assert [len(page) for page in pages] == [5, 5, 2]
    seen = [book for page in pages for book in page]
    assert sorted(_ids(seen)) == sorted(_ids(hers))
    assert all(book["author_id"] == le_guin["id"] for book in seen)

    other = await bookshop.get(f"/authors/{butler['id']}/books")
    assert sorted(_ids(other.json()["items"])) == sorted(_ids(theirs))
    assert other.json()["next_cursor"] is None
    empty = await bookshop.get(f"/authors/{nobody['id']}/books")
    assert empty.status_code == 200 and empty.json() == {"items": [], "next_cursor": None}


async def test_nested_list_of_a_missing_author_is_404(bookshop: httpx.AsyncClient) -> None:
    """The contract: 404 when "the item, or its parent in a nested path, does not exist"."""
    response = await bookshop.get("/authors/999999/books")
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


_TAGGED = """\
openapi: 3.1.0
info: {title: tagged, version: '1'}
paths:
  /notes:
    get:
      parameters:
        - {name: kind, in: query, explode: true, schema: {type: array, items: {type: string}}}
        - {name: limit, in: query, schema: {type: integer, minimum: 1}}
        - {name: cursor, in: query, schema: {type: string}}
      responses:
        '200':
          description: notes
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Note'}}
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Note'}
      responses:
        '201':
          description: made
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Note'}
components:
  schemas:
    Note:
      type: object
      required: [kind]
      properties:
        id: {type: integer, readOnly: true}
        kind: {type: string}
"""


async def test_the_next_link_keeps_repeated_filters_as_sent(
    database_url: str, tmp_path: Path
) -> None:
    model = load_model(write_file(tmp_path, "api.yaml", _TAGGED))
    async with served(model, database_url) as client:
        for kind in ("a", "b", "c", "a", "b", "c", "a"):
            assert (await client.post("/notes", json={"kind": kind})).status_code == 201
        response = await client.get("/notes?kind=a&kind=b&limit=2")
        seen = list(response.json())
        while "link" in response.headers:
            found = _LINK_NEXT.search(response.headers["link"])
            assert found is not None
            assert found.group(1).startswith("/notes?kind=a&kind=b&limit=2&cursor=")
            response = await client.get(found.group(1))
            assert response.status_code == 200, response.text
            seen += response.json()
        assert sorted(note["kind"] for note in seen) == ["a", "a", "a", "b", "b"]
