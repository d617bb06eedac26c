"""Every error the bookshop can answer, as RFC 9457 problem+json, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
import sqlalchemy as sa
from conftest import client_for, served, start_app, stop_app

from backsmith.http.app import create_app
from backsmith.model.types import Model
from backsmith.settings import load_settings

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"
CAP = 1024  # the lowered body cap of the `capped` client
MISSING_UUID = "0190a3f2-0000-7000-8000-000000000000"
MISSING_SLUG = "no-such-book"  # matches the BookSlug pattern, names no book
LEAKS = ("traceback", "sqlalchemy", "sqlite3", "asyncpg", "select ")
BOOK = {"title": "A Wizard of Earthsea", "isbn": "9780553383041", "genres": ["fantasy"]}

# Every problem body answered in this module, checked once more by the last test.
SEEN: list[tuple[str, str]] = []


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert `response` is an RFC 9457 problem with `status`; return its body."""
    where = f"{response.request.method} {response.request.url}"
    SEEN.append((where, response.text))
    _no_leak(where, response.text)
    assert response.status_code == status, f"{where}: {response.status_code} {response.text}"
    assert response.headers["content-type"] == PROBLEM, where
    body = response.json()
    assert isinstance(body, dict), where
    assert isinstance(body.get("type"), str) and re.match(r"^[a-z][a-z0-9+.-]*:", body["type"])
    assert isinstance(body.get("title"), str) and body["title"], where
    assert body.get("status") == status, where
    assert isinstance(body.get("detail"), str) and body["detail"], where
    assert body.get("instance") == response.request.url.path, where
    return body


def _no_leak(where: str, text: str) -> None:
    lowered = text.lower()
    for word in LEAKS:
        assert word not in lowered, f"{where} leaks {word!r}: {text}"


def errors_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The `errors` list of a validation problem; every entry has a detail and a pointer."""
    errors = body.get("errors")
    assert isinstance(errors, list) and errors, body
    for error in errors:
        assert isinstance(error.get("detail"), str) and error["detail"], error
        assert isinstance(error.get("pointer"), str) and error["pointer"].startswith("#"), error
    assert body["detail"].startswith(f"The request has {len(errors)} validation error"), body
    return errors


def parameter_errors(body: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["parameter"], e["in"]) for e in errors_of(body) if "parameter" in e}


def allowed(response: httpx.Response) -> set[str]:
    return {method.strip() for method in response.headers["allow"].split(",")}


async def author(client: httpx.AsyncClient, name: str = "Ursula K. Le Guin") -> dict[str, Any]:
    response = await client.post("/authors", json={"name": name})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def book(
    client: httpx.AsyncClient, author_id: int, isbn: str = "9780553383041"
) -> dict[str, Any]:
    payload = {**BOOK, "isbn": isbn, "author_id": author_id, "price_cents": 899}
    response = await client.post("/books", json=payload)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def order(client: httpx.AsyncClient) -> dict[str, Any]:
    customer = await client.post("/customers", json={"email": "o@example.com", "name": "O"})
    assert customer.status_code == 201, customer.text
    response = await client.post("/orders", json={"customer_id": customer.json()["id"]})
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
async def capped(bookshop_model: Model, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The bookshop with request bodies capped at CAP bytes."""
    async with served(bookshop_model, database_url, max_body_size=CAP) as client:
        yield client


# ------------------------------------------------------------------ routing
async def test_unknown_path_is_404(bookshop: httpx.AsyncClient) -> None:
    for path in ("/nope", "/authors/1/nope", "/books/x/y/z", "/"):
        body = problem(await bookshop.get(path), 404)
        assert path in body["detail"]


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("DELETE", "/authors", "/authors"),
        ("POST", "/authors/1", "/authors/{id}"),
        ("PUT", f"/customers/{MISSING_UUID}", "/customers/{id}"),
        ("GET", f"/orders/{MISSING_UUID}/cancel", "/orders/{id}/cancel"),
        ("POST", f"/orders/{MISSING_UUID}/lines/1", "/orders/{orderId}/lines/{id}"),
        ("PUT", f"/books/{MISSING_SLUG}/wishlist", "/books/{slug}/wishlist"),
    ],
)
async def test_wrong_method_is_405_with_allow(
    bookshop: httpx.AsyncClient, bookshop_model: Model, method: str, path: str, template: str
) -> None:
    response = await bookshop.request(method, path)
    body = problem(response, 405)
    assert method in body["detail"] and template in body["detail"]
    declared = {
        m.upper()
        for m in bookshop_model.document["paths"][template]
        if m in {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    }
    if "GET" in declared:
        declared.add("HEAD")
    assert allowed(response) == declared


async def test_head_on_a_post_only_path_is_405(bookshop: httpx.AsyncClient) -> None:
    response = await bookshop.head(f"/orders/{MISSING_UUID}/cancel")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert allowed(response) == {"POST"}
    assert response.content == b""


async def test_head_on_a_get_path_is_200_with_empty_body(bookshop: httpx.AsyncClient) -> None:
    created = await author(bookshop)
    for path in ("/authors", f"/authors/{created['id']}"):
        got = await bookshop.get(path)
        head = await bookshop.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"] == "application/json"
        assert int(head.headers["content-length"]) == len(got.content) > 2
    missing = await bookshop.head("/authors/999999")
    assert missing.status_code == 404 and missing.content == b""
    assert missing.headers["content-type"] == PROBLEM


# ------------------------------------------------------------- body transport
@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("POST", {"content-type": "text/plain"}),
        ("POST", {"content-type": "application/xml"}),
        ("POST", {}),
        ("PUT", {"content-type": "text/plain"}),
        ("PATCH", {"content-type": "application/json-patch+json"}),
    ],
)
async def test_unsupported_media_type_is_415(
    bookshop: httpx.AsyncClient, method: str, headers: dict[str, str]
) -> None:
    existing = await author(bookshop)
    path = "/authors" if method == "POST" else f"/authors/{existing['id']}"
    response = await bookshop.request(method, path, content=b'{"name": "X"}', headers=headers)
    body = problem(response, 415)
    assert "application/json" in body["detail"]
    assert (await bookshop.get(f"/authors/{existing['id']}")).json() == existing
    assert len((await bookshop.get("/authors")).json()) == 1


async def test_declared_media_types_with_parameters_are_accepted(
    bookshop: httpx.AsyncClient,
) -> None:
    created = await bookshop.post(
        "/authors",
        content=b'{"name": "X"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert created.status_code == 201, created.text
    patched = await bookshop.patch(
        f"/authors/{created.json()['id']}",
        content=b'{"bio": "b"}',
        headers={"content-type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text


async def test_body_over_the_cap_with_content_length_is_413(capped: httpx.AsyncClient) -> None:
    payload = b'{"name": "A", "bio": "' + b"x" * (2 * CAP) + b'"}'
    response = await capped.post(
        "/authors", content=payload, headers={"content-type": "application/json"}
    )
    assert int(response.request.headers["content-length"]) > CAP
    body = problem(response, 413)
    assert str(CAP) in body["detail"]
    assert (await capped.get("/authors")).json() == []


async def test_chunked_body_over_the_cap_is_413(capped: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "A", "bio": "'
        for _ in range(10):
            yield b"x" * 200
        yield b'"}'

    response = await capped.post(
        "/authors", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    problem(response, 413)
    assert (await capped.get("/authors")).json() == []


async def test_chunked_patch_over_the_cap_is_413(capped: httpx.AsyncClient) -> None:
    existing = await author(capped)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(CAP // 100 + 1):
            yield b" " * 100  # whitespace: only the size can fail this body

    response = await capped.patch(
        f"/authors/{existing['id']}", content=chunks(), headers={"content-type": "application/json"}
    )
    problem(response, 413)


async def test_body_of_exactly_the_cap_is_accepted(capped: httpx.AsyncClient) -> None:
    frame = b'{"name": "A", "bio": ""}'
    exact = frame[:-2] + b"x" * (CAP - len(frame)) + b'"}'
    assert len(exact) == CAP
    ok = await capped.post("/authors", content=exact, headers={"content-type": "application/json"})
    assert ok.status_code == 201, ok.text
    over = exact[:-2] + b'x"}'
    problem(
        await capped.post("/authors", content=over, headers={"content-type": "application/json"}),
        413,
    )


@pytest.mark.parametrize("payload", [b'{"name": ', b"{'name': 'x'}", b"\xff\xfe", b"[1, 2,]"])
async def test_malformed_json_is_400(bookshop: httpx.AsyncClient, payload: bytes) -> None:
    response = await bookshop.post(
        "/authors", content=payload, headers={"content-type": "application/json"}
    )
    body = problem(response, 400)
    assert "JSON" in body["detail"]
    assert "errors" not in body


# ---------------------------------------------------------------- validation
async def test_validation_lists_every_error_with_a_pointer(bookshop: httpx.AsyncClient) -> None:
    payload = {
        "title": "",
        "isbn": "123",
        "author_id": "x",
        "genres": ["Not A Genre!"],  # fails the Genre pattern ^[a-z0-9-]+$
        "price_cents": -1,
        "tags": [1, "ok", 2],
        "extra": True,
    }
    body = problem(await bookshop.post("/books", json=payload), 422)
    errors = errors_of(body)
    pointers = sorted(e["pointer"] for e in errors)
    assert pointers == sorted(
        [
            "#",  # the unknown property `extra`
            "#/author_id",
            "#/genres/0",
            "#/isbn",
            "#/price_cents",
            "#/tags/0",
            "#/tags/2",
            "#/title",
        ]
    )
    assert body["detail"] == "The request has 8 validation errors."
    extra = next(e for e in errors if e["pointer"] == "#")
    assert "extra" in extra["detail"]
    assert (await bookshop.get("/books")).json()["items"] == []


async def test_missing_required_fields_are_each_reported(bookshop: httpx.AsyncClient) -> None:
    body = problem(await bookshop.post("/books", json={}), 422)
    details = " ".join(e["detail"] for e in errors_of(body))
    assert len(body["errors"]) == 4
    for name in ("title", "isbn", "author_id", "price_cents"):
        assert name in details
    assert "genres" not in details  # optional: a book may be filed under no genre


async def test_read_only_fields_in_a_body_are_rejected(bookshop: httpx.AsyncClient) -> None:
    body = problem(await bookshop.post("/authors", json={"name": "A", "id": 7}), 422)
    assert [e["pointer"] for e in errors_of(body)] == ["#"]
    assert "id" in body["errors"][0]["detail"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
async def test_missing_required_body_is_422(bookshop: httpx.AsyncClient, method: str) -> None:
    existing = await author(bookshop)
    path = "/authors" if method == "POST" else f"/authors/{existing['id']}"
    response = await bookshop.request(method, path, headers={"content-type": "application/json"})
    body = problem(response, 422)
    assert [e["pointer"] for e in errors_of(body)] == ["#"]
    assert "body" in body["errors"][0]["detail"]


@pytest.mark.parametrize("payload", [b"[]", b'"x"', b"3", b"null"])
async def test_a_body_that_is_not_an_object_is_422(
    bookshop: httpx.AsyncClient, payload: bytes
) -> None:
    response = await bookshop.post(
        "/authors", content=payload, headers={"content-type": "application/json"}
    )
    body = problem(response, 422)
    assert [e["pointer"] for e in errors_of(body)] == ["#"]
    assert (await bookshop.get("/authors")).json() == []


async def test_patch_with_null_for_a_non_nullable_field_is_422(
    bookshop: httpx.AsyncClient,
) -> None:
    existing = await author(bookshop)
    body = problem(await bookshop.patch(f"/authors/{existing['id']}", json={"name": None}), 422)
    assert [e["pointer"] for e in errors_of(body)] == ["#/name"]

    stored = await book(bookshop, existing["id"])
    response = await bookshop.patch(
        f"/books/{stored['slug']}",
        content=b'{"title": null, "in_stock": null, "published_on": null}',
        headers={"content-type": "application/merge-patch+json"},
    )
    body = problem(response, 422)
    assert sorted(e["pointer"] for e in errors_of(body)) == ["#/in_stock", "#/title"]
    assert (await bookshop.get(f"/books/{stored['slug']}")).json() == stored


async def test_empty_patch_is_422(bookshop: httpx.AsyncClient) -> None:
    existing = await author(bookshop)
    body = problem(await bookshop.patch(f"/authors/{existing['id']}", json={}), 422)
    assert [e["pointer"] for e in errors_of(body)] == ["#"]


# ---------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/books/NOT-A-SLUG", {("slug", "path")}),  # fails the BookSlug pattern
        ("/authors/abc", {("id", "path")}),
        ("/authors/0", {("id", "path")}),
        ("/authors/1.5", {("id", "path")}),
        ("/authors/abc/books", {("authorId", "path")}),
        ("/orders/nope/lines/x", {("orderId", "path"), ("id", "path")}),
    ],
)
async def test_bad_path_parameter_is_422(
    bookshop: httpx.AsyncClient, path: str, expected: set[tuple[str, str]]
) -> None:
    body = problem(await bookshop.get(path), 422)
    assert parameter_errors(body) == expected
    assert len(body["errors"]) == len(expected)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_bad_path_parameter_on_writes_is_422(
    bookshop: httpx.AsyncClient, method: str
) -> None:
    kwargs: dict[str, Any] = {} if method == "DELETE" else {"json": {"title": "T"}}
    response = await bookshop.request(method, "/books/NOT-A-SLUG", **kwargs)
    body = problem(response, 422)
    assert ("slug", "path") in parameter_errors(body)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("/authors?limit=0", {("limit", "query")}),
        ("/authors?limit=abc", {("limit", "query")}),
        ("/authors?limit=101", {("limit", "query")}),
        ("/books?author_id=one", {("author_id", "query")}),
        ("/books?in_stock=maybe", {("in_stock", "query")}),
        ("/books?sort=isbn", {("sort", "query")}),
        ("/books?limit=0&author_id=one", {("limit", "query"), ("author_id", "query")}),
        ("/orders?page=0&per_page=0", {("page", "query"), ("per_page", "query")}),
        ("/orders?customer_id=nope", {("customer_id", "query")}),
        ("/books?cursor=not-a-cursor", {("cursor", "query")}),
    ],
)
async def test_bad_query_parameter_is_422(
    bookshop: httpx.AsyncClient, query: str, expected: set[tuple[str, str]]
) -> None:
    body = problem(await bookshop.get(query), 422)
    assert parameter_errors(body) == expected
    assert len(body["errors"]) == len(expected)


# ------------------------------------------------------------------- storage
async def test_duplicate_email_is_409(bookshop: httpx.AsyncClient) -> None:
    first = await bookshop.post("/customers", json={"email": "ana@example.com", "name": "Ana"})
    assert first.status_code == 201, first.text
    second = await bookshop.post("/customers", json={"email": "ana@example.com", "name": "Bea"})
    body = problem(second, 409)
    assert "ana@example.com" not in second.text  # the column may be named, never the value
    assert [c["name"] for c in (await bookshop.get("/customers")).json()["items"]] == ["Ana"]
    assert [e["pointer"] for e in body["errors"]] == ["#/email"]  # the property, not the value


async def test_duplicate_isbn_is_409_on_create_and_update(bookshop: httpx.AsyncClient) -> None:
    writer = await author(bookshop)
    first = await book(bookshop, writer["id"], isbn="9780000000001")
    payload = {**BOOK, "isbn": "9780000000001", "author_id": writer["id"], "price_cents": 1}
    response = await bookshop.post("/books", json=payload)
    problem(response, 409)
    assert "9780000000001" not in response.text
    second = await book(bookshop, writer["id"], isbn="9780000000002")
    patched = await bookshop.patch(f"/books/{second['slug']}", json={"isbn": first["isbn"]})
    problem(patched, 409)
    assert (await bookshop.get(f"/books/{second['slug']}")).json()["isbn"] == "9780000000002"


async def test_reference_to_a_missing_row_on_create_is_422(bookshop: httpx.AsyncClient) -> None:
    payload = {**BOOK, "author_id": 999999, "price_cents": 1}
    response = await bookshop.post("/books", json=payload)
    problem(response, 422)
    assert "999999" not in response.text
    assert (await bookshop.get("/books")).json()["items"] == []

    placed = await order(bookshop)
    line = {"book_id": MISSING_UUID, "quantity": 1, "unit_price_cents": 1}
    response = await bookshop.post(f"/orders/{placed['id']}/lines", json=line)
    problem(response, 422)
    assert MISSING_UUID not in response.text
    assert (await bookshop.get(f"/orders/{placed['id']}/lines")).json() == []


async def test_deleting_a_referenced_row_is_409(bookshop: httpx.AsyncClient) -> None:
    writer = await author(bookshop)
    stored = await book(bookshop, writer["id"])
    problem(await bookshop.delete(f"/authors/{writer['id']}"), 409)
    assert (await bookshop.get(f"/authors/{writer['id']}")).status_code == 200

    placed = await order(bookshop)
    line = {"book_id": stored["id"], "quantity": 1, "unit_price_cents": 1}
    assert (await bookshop.post(f"/orders/{placed['id']}/lines", json=line)).status_code == 201
    problem(await bookshop.delete(f"/books/{stored['slug']}"), 409)
    assert (await bookshop.get(f"/books/{stored['slug']}")).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("GET", "/authors/999999", None),
        ("PUT", "/authors/999999", {"name": "X"}),
        ("PATCH", "/authors/999999", {"name": "X"}),
        ("DELETE", "/authors/999999", None),
        ("GET", f"/books/{MISSING_SLUG}", None),
        ("PATCH", f"/books/{MISSING_SLUG}", {"title": "X"}),
        ("DELETE", f"/books/{MISSING_SLUG}", None),
        ("GET", f"/customers/{MISSING_UUID}", None),
        ("PATCH", f"/customers/{MISSING_UUID}", {"name": "X"}),
        ("DELETE", f"/orders/{MISSING_UUID}", None),
    ],
)
async def test_missing_item_is_404(
    bookshop: httpx.AsyncClient, method: str, path: str, payload: dict[str, Any] | None
) -> None:
    response = await bookshop.request(method, path, json=payload)
    body = problem(response, 404)
    assert "errors" not in body


async def test_replace_of_a_missing_book_is_404_and_creates_nothing(
    bookshop: httpx.AsyncClient,
) -> None:
    writer = await author(bookshop)
    payload = {**BOOK, "author_id": writer["id"], "price_cents": 1}
    problem(await bookshop.put(f"/books/{MISSING_SLUG}", json=payload), 404)
    assert (await bookshop.get("/books")).json()["items"] == []


async def test_missing_line_of_an_existing_order_is_404(bookshop: httpx.AsyncClient) -> None:
    placed = await order(bookshop)
    for method in ("GET", "DELETE"):
        problem(await bookshop.request(method, f"/orders/{placed['id']}/lines/99999"), 404)
    response = await bookshop.patch(f"/orders/{placed['id']}/lines/99999", json={"quantity": 2})
    problem(response, 404)


@pytest.mark.parametrize("path", ["/authors/999999/books", f"/orders/{MISSING_UUID}/lines"])
async def test_nested_list_under_a_missing_parent_is_404(
    bookshop: httpx.AsyncClient, path: str
) -> None:
    # The contract, section 3: "404 | The item, or its parent in a nested path, does not exist."
    problem(await bookshop.get(path), 404)


async def test_cancelling_an_order_is_a_transition_its_contract_declares(
    bookshop: httpx.AsyncClient,
) -> None:
    placed = await order(bookshop)
    cancelled = await bookshop.post(f"/orders/{placed['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    body = problem(await bookshop.post(f"/orders/{placed['id']}/cancel"), 409)
    assert (
        body["detail"]
        == "'status' cannot go from cancelled to cancelled: it may go nowhere from there."
    )


# ------------------------------------------------------------ authentication
async def test_acting_for_the_caller_without_a_valid_token_is_401(
    bookshop: httpx.AsyncClient,
) -> None:
    writer = await author(bookshop)
    stored = await book(bookshop, writer["id"])
    path = f"/books/{stored['slug']}/wishlist"
    for method in ("POST", "DELETE"):
        response = await bookshop.request(method, path)
        body = problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        assert "errors" not in body
    # This server has no JWT secret, so no token can be checked: refused, never trusted.
    response = await bookshop.post(path, headers={"authorization": "Bearer not.a.token"})
    problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert (await bookshop.get(f"/books/{stored['slug']}")).json()["wishlisted_count"] == 0


# ------------------------------------------------------------- server faults
async def test_server_fault_is_500_with_a_request_id(
    bookshop_model: Model, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = await start_app(bookshop_model, database_url)
    try:
        async with app.engine.begin() as conn:  # the schema changes behind the app's back
            await conn.execute(sa.text("DROP TABLE order_lines"))
        async with client_for(app) as client:
            with caplog.at_level(logging.ERROR, logger="backsmith"):
                response = await client.get(f"/orders/{MISSING_UUID}/lines")
    finally:
        await stop_app(app)
    body = problem(response, 500)
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert request_id in body["detail"]
    assert "order_lines" not in response.text and "errors" not in body
    assert "retry-after" not in response.headers
    logged = [r for r in caplog.records if r.__dict__.get("request_id") == request_id]
    assert logged and logged[0].exc_info is not None  # the log keeps what the client is not told


async def test_request_ids_differ_per_fault(bookshop_model: Model, database_url: str) -> None:
    app = await start_app(bookshop_model, database_url)
    try:
        async with app.engine.begin() as conn:
            await conn.execute(sa.text("DROP TABLE order_lines"))
        async with client_for(app) as client:
            ids = {
                (await client.get(f"/orders/{MISSING_UUID}/lines")).headers.get("x-request-id")
                for _ in range(3)
            }
    finally:
        await stop_app(app)
    assert None not in ids and len(ids) == 3


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("sqlite:////nonexistent-backsmith-dir/shop.db", id="sqlite"),
        pytest.param("postgresql://postgres@127.0.0.1:1/shop", id="postgresql"),
    ],
)
async def test_unreachable_database_is_503(bookshop_model: Model, url: str) -> None:
    app = create_app(bookshop_model, load_settings({}, environ={}, database_url=url))
    try:
        async with client_for(app) as client:
            responses = [
                await client.get("/authors"),
                await client.get("/authors/1"),
                await client.post("/authors", json={"name": "A"}),
            ]
    finally:
        await app.shutdown()
        # aiosqlite stops the thread of a failed connect without waiting for it; let it finish
        # while this test's event loop is still open.
        await anyio.sleep(0.1)
    for response in responses:
        problem(response, 503)
        assert response.headers.get("retry-after") == "1"


# ------------------------------------------------------------------- leakage
async def test_no_error_body_leaks_internals(bookshop: httpx.AsyncClient) -> None:
    # Provoke the database's own refusals here too, so this test means something alone.
    writer = await author(bookshop)
    await book(bookshop, writer["id"])
    refusals = [
        await bookshop.post("/books", json={**BOOK, "author_id": writer["id"], "price_cents": 1}),
        await bookshop.post(
            "/books", json={**BOOK, "isbn": "9780000424242", "author_id": 424242, "price_cents": 1}
        ),
        await bookshop.delete(f"/authors/{writer['id']}"),
    ]
    for response, status in zip(refusals, (409, 422, 409), strict=True):
        problem(response, status)
    assert len(SEEN) >= len(refusals)
    leaks = [(where, text) for where, text in SEEN if any(word in text.lower() for word in LEAKS)]
    assert leaks == []
