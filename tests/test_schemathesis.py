"""Schemathesis, used as a library, against the bookshop served in-process on SQLite.

The schema is the bookshop contract as backsmith bundled it; requests go through
schemathesis's ASGI transport to one `BacksmithApp` on a fresh database file. Every response
must conform to the contract: no 5xx, a declared status code, a declared content type, a body
that matches the declared schema (problem documents included) and declared headers. The one
exception is the orders' moves, `cancelOrder` (a transition) and `payOrder` (a handler):
they are checked on their own, answering only the statuses their contract declares.

The wishlist operations act for a customer: the app is served with a JWT secret, and the
requests aimed at stored rows carry a valid bearer token whose `sub` is a stored customer.

Generated ids rarely name a stored row, so each operation is fuzzed twice: once as generated,
and once with its path parameters and foreign keys pointing at rows created for that test.
A table of one valid request per operation then makes sure every success body is validated.
Hypothesis runs derandomized with a bounded number of examples, so the result is the same on
every run.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
from typing import Any

import jwt
import pytest
import schemathesis
from conftest import BOOKSHOP
from hypothesis import HealthCheck, settings
from schemathesis import Case, checks
from schemathesis.core import NOT_SET

from backsmith.api import load_model
from backsmith.http.app import BacksmithApp, create_app
from backsmith.settings import load_settings

MODEL = load_model(BOOKSHOP)
CONTRACT: dict[str, Any] = copy.deepcopy(MODEL.document)
SCHEMA = schemathesis.openapi.from_dict(copy.deepcopy(CONTRACT))
# The two operations that act for the caller; fuzzed on their own (see test_wishlist_conforms).
WISHLIST_IDS = ["wishlistBook", "unwishlistBook"]
MOVES = ["cancelOrder", "payOrder"]
CRUD = SCHEMA.exclude(operation_id=[*MOVES, *WISHLIST_IDS])
WISHLIST = SCHEMA.include(operation_id=WISHLIST_IDS)
CANCEL = SCHEMA.include(operation_id=MOVES)
SECRET = "schemathesis-test-secret-of-32-bytes-or-more"

CONFORMANCE = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
_unique = itertools.count(1)


# ------------------------------------------------------------------ the app and its rows
@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> BacksmithApp:
    """The bookshop on an empty SQLite file, its tables created before the first request."""
    database = tmp_path_factory.mktemp("schemathesis") / "bookshop.db"
    settings = load_settings(
        {}, environ={}, database_url=f"sqlite:///{database}", jwt_secret=SECRET
    )
    app = create_app(MODEL, settings)

    async def start() -> None:
        # Schemathesis may run the ASGI lifespan too (startup is idempotent); the connections
        # opened here belong to this event loop, so they are closed before it ends.
        await app.startup()
        await app.engine.dispose()

    asyncio.run(start())
    return app


def call(
    app: BacksmithApp,
    operation_id: str,
    path: dict[str, Any] | None = None,
    query: dict[str, Any] | None = None,
    body: Any = NOT_SET,
    headers: dict[str, str] | None = None,
) -> tuple[Case, Any]:
    """Send one explicit request for `operation_id`; the case and its response."""
    operation = SCHEMA.find_operation_by_id(operation_id)
    media_type = None if body is NOT_SET else "application/json"
    case = operation.Case(
        path_parameters=path or {},
        query=query or {},
        headers=headers or {},
        body=body,
        media_type=media_type,
    )
    return case, case.call(app=app)


def create(
    app: BacksmithApp, operation_id: str, body: dict[str, Any], **path: Any
) -> dict[str, Any]:
    case, response = call(app, operation_id, path, body=body)
    assert response.status_code == 201, f"{operation_id}: {response.status_code} {response.text}"
    case.validate_response(response, checks=CONFORMANCE, transport_kwargs={"app": app})
    created: dict[str, Any] = response.json()
    return created


def book_body(**extra: Any) -> dict[str, Any]:
    return {
        "title": "The Left Hand of Darkness",
        "isbn": f"{9780000000000 + next(_unique)}",
        "genres": ["science-fiction"],
        "price_cents": 1099,
        **extra,
    }


@pytest.fixture
def rows(served_app: BacksmithApp) -> dict[str, Any]:
    """Fresh rows for one test: ids by role, created through the API itself."""
    author = create(served_app, "createAuthor", {"name": "Ursula K. Le Guin"})
    parent = create(served_app, "createAuthor", {"name": "Octavia E. Butler"})
    book = create(served_app, "createAuthorBook", book_body(), authorId=parent["id"])
    lined_book = create(served_app, "createAuthorBook", book_body(), authorId=parent["id"])
    customer = create(
        served_app, "createCustomer", {"email": f"c{next(_unique)}@example.com", "name": "Ged"}
    )
    order = create(served_app, "createOrder", {"customer_id": customer["id"]})
    line = create(
        served_app,
        "createOrderLine",
        {"book_id": lined_book["id"], "quantity": 2, "unit_price_cents": 999},
        orderId=order["id"],
    )
    return {
        "author": author["id"],  # has no books, so it can be deleted
        "parent": parent["id"],  # has books
        "book": book["slug"],  # books are addressed by slug; no order line refers to this one
        "lined_book": lined_book["id"],  # order lines name books by uuid
        "customer": customer["id"],
        "order": order["id"],
        "line": line["id"],
        "token": bearer(customer["id"]),  # acts for `customer`
    }


def bearer(customer_id: str) -> str:
    """An `Authorization` header value for a caller whose token names `customer_id`."""
    claims = {"sub": customer_id, "exp": time.time() + 3600}
    return f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"


# Which row a path parameter or a foreign key points at, in test_operation_conforms_on_rows.
ROW_OF_COLLECTION = {
    "authors": "author",
    "books": "book",
    "customers": "customer",
    "orders": "order",
    "lines": "line",
}
ROW_OF_NAME = {
    "slug": "book",
    "authorId": "parent",
    "orderId": "order",
    "author_id": "parent",
    "customer_id": "customer",
    "book_id": "lined_book",
}


def point_at_rows(case: Case, rows: dict[str, Any]) -> None:
    """Aim a generated case's path parameters and foreign keys at existing rows."""
    segments = case.path.strip("/").split("/")
    for name in list(case.path_parameters or {}):
        if name == "id":
            collection = segments[segments.index("{id}") - 1]
            case.path_parameters[name] = rows[ROW_OF_COLLECTION[collection]]
        elif name in ROW_OF_NAME:
            case.path_parameters[name] = rows[ROW_OF_NAME[name]]
    for name in list(case.query or {}):
        if name in ROW_OF_NAME:
            case.query[name] = rows[ROW_OF_NAME[name]]
    if isinstance(case.body, dict):
        for name in [n for n in case.body if n in ROW_OF_NAME]:
            case.body[name] = rows[ROW_OF_NAME[name]]
    if case.operation.definition.raw.get("security"):  # acts for the caller: a valid token
        case.headers = {**(case.headers or {}), "Authorization": rows["token"]}


# ------------------------------------------------------------------ property-based runs
@CRUD.parametrize()
@FUZZ
def test_operation_conforms(case: Case, served_app: BacksmithApp) -> None:
    """Generated requests, valid and invalid: every response conforms to the contract."""
    response = case.call(app=served_app)
    case.validate_response(response, checks=CONFORMANCE, transport_kwargs={"app": served_app})


@CRUD.parametrize()
@FUZZ
def test_operation_conforms_on_rows(
    case: Case, served_app: BacksmithApp, rows: dict[str, Any]
) -> None:
    """The same, with ids that name stored rows, so success responses are checked too."""
    point_at_rows(case, rows)
    response = case.call(app=served_app)
    case.validate_response(response, checks=CONFORMANCE, transport_kwargs={"app": served_app})


@WISHLIST.parametrize()
@FUZZ
def test_wishlist_conforms(case: Case, served_app: BacksmithApp) -> None:
    """Generated requests to the operations acting for the caller, with generated tokens."""
    response = case.call(app=served_app)
    case.validate_response(response, checks=CONFORMANCE, transport_kwargs={"app": served_app})


@WISHLIST.parametrize()
@FUZZ
def test_wishlist_conforms_on_rows(
    case: Case, served_app: BacksmithApp, rows: dict[str, Any]
) -> None:
    """The same with a stored book's slug and a valid token of a stored customer."""
    point_at_rows(case, rows)
    response = case.call(app=served_app)
    case.validate_response(response, checks=CONFORMANCE, transport_kwargs={"app": served_app})


@CANCEL.parametrize()
@FUZZ
def test_order_moves_answer_only_what_their_contract_declares(
    case: Case, served_app: BacksmithApp
) -> None:
    """The transition and the payment answer a declared status, and a problem document
    when they refuse, whatever they are sent."""
    response = case.call(app=served_app)
    if case.method != "POST":  # the coverage phase also probes methods the path lacks
        assert response.status_code == 405, response.text
        assert response.headers["allow"] == ["POST"]
        return
    assert response.status_code in (200, 400, 404, 409, 422), response.text
    if response.status_code != 200:
        assert response.headers["content-type"] == ["application/problem+json"]
        assert response.json()["status"] == response.status_code


# ------------------------------------------------------------------ one valid request each
def success_requests(rows: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """For each CRUD operation: path parameters, query and body of a request that succeeds."""
    author, parent, book, token = rows["author"], rows["parent"], rows["book"], rows["token"]
    customer, order, line = rows["customer"], rows["order"], rows["line"]
    return {
        "listAuthors": {"query": {"limit": 1}},
        "createAuthor": {"body": {"name": "Italo Calvino", "born": "1923-10-15"}},
        "getAuthor": {"path": {"id": author}},
        "replaceAuthor": {"path": {"id": author}, "body": {"name": "U. K. Le Guin"}},
        "updateAuthor": {"path": {"id": author}, "body": {"bio": "Wrote Earthsea."}},
        "deleteAuthor": {"path": {"id": author}},
        "listAuthorBooks": {"path": {"authorId": parent}, "query": {"limit": 1}},
        "createAuthorBook": {"path": {"authorId": parent}, "body": book_body(tags=["sf"])},
        "listBooks": {"query": {"genre": "science-fiction", "sort": "-price_cents"}},
        "createBook": {"body": book_body(author_id=parent, published_on="1969-03-01")},
        "getBook": {"path": {"slug": book}},
        "replaceBook": {"path": {"slug": book}, "body": book_body(author_id=parent)},
        "updateBook": {
            "path": {"slug": book},
            "body": {"in_stock": False, "published_on": None, "genres": ["classic", "sf"]},
        },
        "deleteBook": {"path": {"slug": book}},
        "wishlistBook": {"path": {"slug": book}, "headers": {"Authorization": token}},
        "unwishlistBook": {"path": {"slug": book}, "headers": {"Authorization": token}},
        "listCustomers": {"query": {"limit": 100}},
        "createCustomer": {"body": {"email": f"n{next(_unique)}@example.com", "name": "Tenar"}},
        "getCustomer": {"path": {"id": customer}},
        "updateCustomer": {"path": {"id": customer}, "body": {"tier": "gold"}},
        "deleteCustomer": {"path": {"id": customer}},
        "listOrders": {"query": {"page": 1, "per_page": 5, "customer_id": customer}},
        "createOrder": {
            "body": {
                "customer_id": customer,
                "note": "gift wrap",
                "lines": [{"book_id": rows["lined_book"], "quantity": 2, "unit_price_cents": 5}],
            }
        },
        "getOrder": {"path": {"id": order}},
        "updateOrder": {"path": {"id": order}, "body": {"status": "paid"}},
        "deleteOrder": {"path": {"id": order}},
        "listOrderLines": {"path": {"orderId": order}},
        "createOrderLine": {
            "path": {"orderId": order},
            "body": {"book_id": rows["lined_book"], "quantity": 1, "unit_price_cents": 1},
        },
        "getOrderLine": {"path": {"orderId": order, "id": line}},
        "updateOrderLine": {"path": {"orderId": order, "id": line}, "body": {"quantity": 3}},
        "deleteOrderLine": {"path": {"orderId": order, "id": line}},
    }


ROLES = ("author", "parent", "book", "lined_book", "customer", "order", "line", "token")
SUCCESS_IDS = list(success_requests(dict.fromkeys(ROLES, 1)))  # only the keys are used here


def declared_success(operation_id: str) -> int:
    for item in CONTRACT["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return int(next(code for code in operation["responses"] if code.startswith("2")))
    raise KeyError(operation_id)


def test_success_table_covers_every_crud_operation() -> None:
    declared = {op.operation_id for op in MODEL.operations if op.operation_id not in MOVES}
    assert set(SUCCESS_IDS) == declared


@pytest.mark.parametrize("operation_id", SUCCESS_IDS)
def test_success_response_conforms(
    operation_id: str, served_app: BacksmithApp, rows: dict[str, Any]
) -> None:
    request = success_requests(rows)[operation_id]
    case, response = call(
        served_app,
        operation_id,
        request.get("path"),
        request.get("query"),
        request.get("body", NOT_SET),
        request.get("headers"),
    )
    assert response.status_code == declared_success(operation_id), response.text
    case.validate_response(response, checks=CONFORMANCE, transport_kwargs={"app": served_app})
    if operation_id.startswith("list"):
        body = response.json()
        items = body if isinstance(body, list) else body["items"]
        assert items, f"{operation_id} listed nothing, so no item was validated"
    if operation_id in WISHLIST_IDS:  # the caller's own view of the book
        wished = operation_id == "wishlistBook"
        assert response.json()["wishlisted"] is wished, response.text
        assert response.json()["wishlisted_count"] == int(wished), response.text
    if operation_id == "createOrder":  # lines written with the order, summed into the total
        assert len(response.json()["lines"]) == 1 and response.json()["total_cents"] == 10


# ------------------------------------------------------------------ minimal repros
def test_problem_instance_is_a_uri_reference(served_app: BacksmithApp) -> None:
    """`instance` is declared `format: uri-reference`; a decoded path with a space is not one."""
    case, response = call(served_app, "getBook", {"slug": "not a slug"})
    assert response.status_code == 422
    case.validate_response(response, checks=CONFORMANCE, transport_kwargs={"app": served_app})


@pytest.mark.parametrize("operation_id", WISHLIST_IDS)
def test_wishlist_with_a_bad_slug_answers_a_declared_status(
    operation_id: str, served_app: BacksmithApp, rows: dict[str, Any]
) -> None:
    """A slug that cannot match `^[a-z0-9-]+$` names no book; the answer must be declared."""
    case, response = call(
        served_app, operation_id, {"slug": "Not A Slug"}, headers={"Authorization": rows["token"]}
    )
    assert 400 <= response.status_code < 500, response.text
    case.validate_response(response, checks=CONFORMANCE, transport_kwargs={"app": served_app})


@pytest.mark.parametrize(
    ("operation_id", "path", "query", "body"),
    [
        ("getAuthor", {"id": 2**64}, None, NOT_SET),
        ("listBooks", None, {"author_id": 2**64}, NOT_SET),
        ("createBook", None, None, book_body(author_id=1, price_cents=2**64)),
        ("listOrders", None, {"page": 2**62}, NOT_SET),
    ],
    ids=["path-parameter", "query-filter", "body-field", "page-offset"],
)
def test_integer_past_sqlite_range_is_not_a_server_error(
    served_app: BacksmithApp,
    operation_id: str,
    path: dict[str, Any] | None,
    query: dict[str, Any] | None,
    body: Any,
) -> None:
    """The contract sets no maximum, so these are valid input: a 2xx or 4xx, never a 500.

    SQLite stores 64-bit integers; binding a larger one raises OverflowError, which nothing
    turns into a problem. A page number times the page size overflows the same way.
    """
    case, response = call(served_app, operation_id, path, query, body)
    assert response.status_code < 500, response.text
    case.validate_response(response, checks=CONFORMANCE, transport_kwargs={"app": served_app})


def test_filters_select_every_operation_once() -> None:
    """The fuzzed runs above cover all 31 CRUD operations (the two wishlist operations on
    their own), and the orders' moves on their own."""
    crud = [result.ok().label for result in CRUD.get_all_operations()]
    wishlist = [result.ok().label for result in WISHLIST.get_all_operations()]
    cancel = [result.ok().label for result in CANCEL.get_all_operations()]
    assert sorted(cancel) == ["POST /orders/{id}/cancel", "POST /orders/{id}/pay"]
    assert sorted(wishlist) == ["DELETE /books/{slug}/wishlist", "POST /books/{slug}/wishlist"]
    assert not set(crud) & set(wishlist)
    assert len(crud) == len(set(crud)) == 29
    assert len(crud) + len(wishlist) == len(MODEL.operations) - len(MOVES) == 31
