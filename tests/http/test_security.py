"""The bookshop secured as the README says, attacked over HTTP (OWASP API Top 10, 2023).

Customers see only their own customer record, orders and order lines; staff manage the
catalogue and see everything; anonymous callers browse books. Every attack below must be
refused, and the database must be left as it was. SQLite and PostgreSQL both.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from conftest import ROOT, served, start_app, stop_app

from backsmith.api import load_model
from backsmith.model.types import Model
from backsmith.security.exposure import ExposureRefused

pytestmark = pytest.mark.anyio

SECRET = "a-test-secret-of-at-least-32-bytes-long"
BOOKSHOP = ROOT / "examples" / "bookshop" / "api-spec.md"

# The README's "Securing the bookshop": which operations only staff may call.
STAFF_ONLY = [
    "createAuthor",
    "replaceAuthor",
    "updateAuthor",
    "deleteAuthor",
    "createAuthorBook",
    "createBook",
    "replaceBook",
    "updateBook",
    "deleteBook",
    "listCustomers",
]


def secure(text: str) -> str:
    """The README's edits: admin role, three owners, staff-only writes, a secured cancel."""
    root = "x-backsmith:\n  lint-ignore:"  # the bookshop's root options
    assert root in text
    text = text.replace(root, "x-backsmith:\n  admin-roles: [staff]\n  lint-ignore:", 1)
    for schema, owner in (("Customer", "id"), ("OrderLine", "order.customer_id")):
        before = f"    {schema}:\n      type: object\n"
        assert before in text, schema
        text = text.replace(before, f"{before}      x-backsmith: {{owner: {owner}}}\n", 1)
    transitions = "      x-backsmith:\n        transitions:\n"  # Order's, beside its owner
    assert text.count(transitions) == 1
    text = text.replace(
        transitions, transitions.replace(":\n", ":\n        owner: customer_id\n", 1)
    )
    for operation in STAFF_ONLY:
        line = f"      operationId: {operation}\n"
        assert line in text, operation
        text = text.replace(line, f"{line}      x-backsmith: {{roles: [staff]}}\n", 1)
    for operation in ("cancelOrder", "payOrder"):
        line = f"      operationId: {operation}\n"
        text = text.replace(line, f"{line}      security: [{{bearerAuth: []}}]\n", 1)
    return text


@pytest.fixture(scope="module")
def secured_model(tmp_path_factory: pytest.TempPathFactory) -> Model:
    folder = tmp_path_factory.mktemp("secured")
    contract = folder / "api-spec.md"
    contract.write_text(secure(BOOKSHOP.read_text(encoding="utf-8")), encoding="utf-8")
    return load_model(contract)


@pytest.fixture
async def shop(secured_model: Model, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with served(secured_model, database_url, jwt_secret=SECRET) as client:
        yield client


def token(sub: object, roles: tuple[str, ...] = (), **claims: Any) -> str:
    body = {"sub": str(sub), "exp": int(time.time()) + 3600, "roles": list(roles), **claims}
    return jwt.encode(body, SECRET, algorithm="HS256")


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


STAFF = bearer(token("staff-1", ("staff",)))


def refused(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


class Customer:
    """A customer with their own record and an order of one line."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.id = str(uuid.uuid4())
        self.headers = bearer(token(self.id, ("customer",)))
        self.order: dict[str, Any] = {}
        self.line: dict[str, Any] = {}

    async def sign_up(self, book_id: str) -> Customer:
        me = {"email": f"{self.id[:8]}@example.com", "name": "Reader"}
        created = await self.client.post("/customers", json=me, headers=self.headers)
        assert created.status_code == 201, created.text
        assert created.json()["id"] == self.id  # the owner is the caller
        line = {"book_id": book_id, "quantity": 1, "unit_price_cents": 900}
        order = {"customer_id": self.id, "lines": [line]}
        made = await self.client.post("/orders", json=order, headers=self.headers)
        assert made.status_code == 201, made.text
        self.order = made.json()
        self.line = self.order["lines"][0]
        return self


async def a_book(client: httpx.AsyncClient) -> dict[str, Any]:
    author = await client.post("/authors", json={"name": "Le Guin"}, headers=STAFF)
    assert author.status_code == 201, author.text
    book = {
        "title": "Earthsea",
        "isbn": "9780547773742",
        "author_id": author.json()["id"],
        "price_cents": 900,
        "tags": [],
        "genres": ["fantasy"],
    }
    made = await client.post("/books", json=book, headers=STAFF)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def two_customers(client: httpx.AsyncClient) -> tuple[Customer, Customer]:
    book = await a_book(client)
    return (
        await Customer(client).sign_up(book["id"]),
        await Customer(client).sign_up(book["id"]),
    )


# ------------------------------------------------------------------ API1 BOLA
async def test_another_customers_rows_are_not_found_by_any_method(
    shop: httpx.AsyncClient,
) -> None:
    alice, bob = await two_customers(shop)
    order, line = alice.order, alice.line
    targets = [
        ("GET", f"/customers/{alice.id}", None),
        ("PATCH", f"/customers/{alice.id}", {"name": "Mallory"}),
        ("DELETE", f"/customers/{alice.id}", None),
        ("GET", f"/orders/{order['id']}", None),
        ("PATCH", f"/orders/{order['id']}", {"note": "mine now"}),
        ("DELETE", f"/orders/{order['id']}", None),
        ("GET", f"/orders/{order['id']}/lines", None),
        ("POST", f"/orders/{order['id']}/lines", {**_line(line), "quantity": 5}),
        ("GET", f"/orders/{order['id']}/lines/{line['id']}", None),
        ("PATCH", f"/orders/{order['id']}/lines/{line['id']}", {"quantity": 99}),
        ("DELETE", f"/orders/{order['id']}/lines/{line['id']}", None),
    ]
    for method, path, body in targets:
        response = await shop.request(method, path, json=body, headers=bob.headers)
        refused(response, 404)
        # The same answer as for an id that does not exist at all.
        missing = path.replace(alice.id, str(uuid.uuid4())).replace(order["id"], str(uuid.uuid4()))
        assert (
            await shop.request(method, missing, json=body, headers=bob.headers)
        ).status_code == 404
    # Alice's rows are as they were.
    mine = await shop.get(f"/orders/{order['id']}", headers=alice.headers)
    assert mine.status_code == 200 and mine.json() == order
    me = await shop.get(f"/customers/{alice.id}", headers=alice.headers)
    assert me.json()["name"] == "Reader"


def _line(line: dict[str, Any]) -> dict[str, Any]:
    return {k: line[k] for k in ("book_id", "quantity", "unit_price_cents")}


async def test_lists_and_filters_show_only_the_callers_rows(shop: httpx.AsyncClient) -> None:
    alice, bob = await two_customers(shop)
    mine = await shop.get("/orders", headers=bob.headers)
    assert [o["id"] for o in mine.json()["items"]] == [bob.order["id"]]
    assert mine.json()["total"] == 1
    spying = await shop.get("/orders", params={"customer_id": alice.id}, headers=bob.headers)
    assert spying.json()["items"] == [] and spying.json()["total"] == 0
    # Staff see everyone's.
    everything = await shop.get("/orders", headers=STAFF)
    assert {o["id"] for o in everything.json()["items"]} == {alice.order["id"], bob.order["id"]}
    refused(await shop.get("/orders"), 401)


async def test_a_line_cannot_be_moved_to_another_customers_order(
    shop: httpx.AsyncClient,
) -> None:
    alice, bob = await two_customers(shop)
    path = f"/orders/{bob.order['id']}/lines/{bob.line['id']}"
    # OrderLinePatch has no order_id: the schema refuses it before ownership is asked.
    moved = await shop.patch(path, json={"order_id": alice.order["id"]}, headers=bob.headers)
    refused(moved, 422)
    lines = await shop.get(f"/orders/{alice.order['id']}/lines", headers=alice.headers)
    assert [item["id"] for item in lines.json()] == [alice.line["id"]]


# ------------------------------------------------------------------ API2 broken auth
def _rsa() -> tuple[Any, bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public


async def test_every_broken_token_is_a_401_with_a_challenge(
    secured_model: Model, database_url: str, tmp_path: Path
) -> None:
    private, public = _rsa()
    pem = tmp_path / "public.pem"
    pem.write_bytes(public)
    settings = {
        "jwt_secret": SECRET,
        "jwt_public_key": str(pem),
        "jwt_algorithms": "HS256,RS256",
        "jwt_issuer": "https://id.example",
        "jwt_audience": "bookshop",
    }
    now = int(time.time())
    good = {"sub": str(uuid.uuid4()), "iss": "https://id.example", "aud": "bookshop"}
    header_none = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    payload = jwt.utils.base64url_encode(
        f'{{"sub":"x","exp":{now + 600},"iss":"https://id.example","aud":"bookshop"}}'.encode()
    ).decode()
    valid = jwt.encode({**good, "exp": now + 600}, private, algorithm="RS256")
    head, _, signature = valid.split(".")
    tampered_body = jwt.utils.base64url_encode(
        f'{{"sub":"someone-else","exp":{now + 600}}}'.encode()
    ).decode()
    other_key, _ = _rsa()
    broken = {
        "expired past the leeway": jwt.encode({**good, "exp": now - 120}, SECRET, "HS256"),
        "not yet valid": jwt.encode({**good, "exp": now + 600, "nbf": now + 300}, SECRET),
        "wrong signature": jwt.encode({**good, "exp": now + 600}, "another-secret-" * 3),
        "alg none": f"{header_none}.{payload}.",
        # HS256 signed with the RS public key as its secret: the classic confusion.
        "algorithm confusion": _hmac_with(public, {**good, "exp": now + 600}),
        "tampered payload": f"{head}.{tampered_body}.{signature}",
        "wrong issuer": jwt.encode({**good, "iss": "https://evil", "exp": now + 600}, SECRET),
        "wrong audience": jwt.encode({**good, "aud": "other", "exp": now + 600}, SECRET),
        "no exp": jwt.encode(good, SECRET),
        "unknown key": jwt.encode({**good, "exp": now + 600}, other_key, algorithm="RS256"),
        "too long": jwt.encode({**good, "exp": now + 600, "pad": "x" * 9000}, SECRET),
        "not a jwt": "not-a-token",
    }
    async with served(secured_model, database_url, **settings) as client:
        ok = await client.get("/orders", headers=bearer(valid))
        assert ok.status_code == 200, ok.text
        for name, value in broken.items():
            response = await client.get("/orders", headers=bearer(value))
            refused(response, 401)
            challenge = response.headers["www-authenticate"]
            assert challenge == 'Bearer error="invalid_token"', (name, challenge)
        anonymous = await client.get("/orders")
        refused(anonymous, 401)
        assert anonymous.headers["www-authenticate"] == "Bearer"


def _hmac_with(key: bytes, claims: dict[str, Any]) -> str:
    """An HS256 token keyed by arbitrary bytes (PyJWT itself refuses a PEM as HMAC key)."""
    import hashlib
    import hmac
    import json

    encode = jwt.utils.base64url_encode
    head = encode(b'{"alg":"HS256","typ":"JWT"}').decode()
    body = encode(json.dumps(claims).encode()).decode()
    mac = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{encode(mac).decode()}"


async def test_keys_rotate_by_kid_without_a_restart(
    secured_model: Model, database_url: str, tmp_path: Path
) -> None:
    first, second = _rsa()[0], _rsa()[0]
    jwks = tmp_path / "jwks.json"

    def publish(*keys: tuple[str, Any]) -> None:
        import json

        entries = []
        for kid, key in keys:
            entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            entries.append({**entry, "kid": kid, "use": "sig", "alg": "RS256"})
        jwks.write_text(json.dumps({"keys": entries}), encoding="utf-8")

    def signed(kid: str, key: Any) -> dict[str, str]:
        claims = {"sub": str(uuid.uuid4()), "exp": int(time.time()) + 600}
        return bearer(jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid}))

    publish(("one", first))
    async with served(secured_model, database_url, jwt_jwks=str(jwks)) as client:
        assert (await client.get("/orders", headers=signed("one", first))).status_code == 200
        refused(await client.get("/orders", headers=signed("two", second)), 401)
        publish(("two", second))  # key two is added, key one retired
        assert (await client.get("/orders", headers=signed("two", second))).status_code == 200
        time.sleep(1.1)  # the file is looked at again at most once a second
        refused(await client.get("/orders", headers=signed("one", first)), 401)


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
async def test_elliptic_curve_tokens_verify_with_a_pem_key(
    secured_model: Model, database_url: str, tmp_path: Path, algorithm: str
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    key: Any = (
        ec.generate_private_key(ec.SECP256R1())
        if algorithm == "ES256"
        else ed25519.Ed25519PrivateKey.generate()
    )
    pem = tmp_path / "key.pem"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    claims = {"sub": str(uuid.uuid4()), "exp": int(time.time()) + 600}
    async with served(secured_model, database_url, jwt_public_key=str(pem)) as client:
        good = bearer(jwt.encode(claims, key, algorithm=algorithm))
        assert (await client.get("/orders", headers=good)).status_code == 200
        refused(await client.get("/orders", headers=bearer(jwt.encode(claims, SECRET))), 401)


# ------------------------------------------------------------------ API3 property level
async def test_no_one_assigns_an_owner_an_id_or_a_server_field(shop: httpx.AsyncClient) -> None:
    alice, bob = await two_customers(shop)
    as_alice = await shop.post("/orders", json={"customer_id": alice.id}, headers=bob.headers)
    body = refused(as_alice, 422)
    assert [e["pointer"] for e in body["errors"]] == ["#/customer_id"]
    mine = await shop.get("/orders", headers=bob.headers)
    assert mine.json()["total"] == 1  # nothing was stored
    # Fields the request schemas leave out (ids, owners, roles) are refused too.
    for path, body in (
        (f"/customers/{bob.id}", {"id": alice.id}),
        (f"/customers/{bob.id}", {"roles": ["staff"]}),
        (f"/orders/{bob.order['id']}", {"customer_id": alice.id}),
        (f"/orders/{bob.order['id']}", {"created_at": "2000-01-01T00:00:00Z"}),
    ):
        refused(await shop.patch(path, json=body, headers=bob.headers), 422)
    again = await shop.get(f"/orders/{bob.order['id']}", headers=bob.headers)
    assert again.json() == bob.order


# ------------------------------------------------------------------ API5 function level
async def test_customers_cannot_call_staff_operations(shop: httpx.AsyncClient) -> None:
    alice, _ = await two_customers(shop)
    author = {"name": "Mallory"}
    refused(await shop.post("/authors", json=author), 401)
    forbidden = refused(await shop.post("/authors", json=author, headers=alice.headers), 403)
    assert "staff" in forbidden["detail"]
    refused(await shop.get("/customers", headers=alice.headers), 403)
    assert (await shop.get("/customers", headers=STAFF)).status_code == 200
    names = [a["name"] for a in (await shop.get("/authors")).json()]
    assert names == ["Le Guin"]  # anonymous callers browse; Mallory was never written


async def test_anonymous_callers_browse_the_catalogue(shop: httpx.AsyncClient) -> None:
    book = await a_book(shop)
    assert (await shop.get("/books")).json()["items"][0]["id"] == book["id"]
    found = await shop.get(f"/books/{book['slug']}")
    assert found.status_code == 200 and found.json()["wishlisted"] is False
    assert "cache-control" not in found.headers  # nothing private in it


# ------------------------------------------------------------------ injection
PAYLOADS = [
    "' OR '1'='1",
    "1; DROP TABLE books; --",
    '" OR 1=1 --',
    "') UNION SELECT id, title FROM books --",
    "%27%20OR%201%3D1",
    "\\'; SELECT pg_sleep(5); --",
]


async def test_filters_and_sort_bind_what_they_are_given(shop: httpx.AsyncClient) -> None:
    await a_book(shop)
    for payload in PAYLOADS:
        by_genre = await shop.get("/books", params={"genre": payload})
        assert by_genre.status_code == 200, by_genre.text
        assert by_genre.json()["items"] == []
        sorted_by = await shop.get("/books", params={"sort": payload})
        assert sorted_by.status_code in (400, 422), sorted_by.text
        assert "SELECT" not in sorted_by.text.upper().replace(payload.upper(), "")
        by_author = await shop.get("/books", params={"author_id": payload})
        assert by_author.status_code in (400, 422)
        cursor = await shop.get("/books", params={"cursor": payload})
        assert cursor.status_code in (400, 422)
    assert len((await shop.get("/books")).json()["items"]) == 1  # the table is still there


# ------------------------------------------------------------------ API8 misconfiguration
async def test_every_response_carries_the_security_headers(shop: httpx.AsyncClient) -> None:
    for response in (
        await shop.get("/books"),
        await shop.get("/nowhere"),
        await shop.post("/authors", json={}),
        await shop.get("/healthz"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
        assert "server" not in response.headers
    private = await shop.get("/orders", headers=STAFF)
    assert private.headers["cache-control"] == "no-store"
    assert (await shop.request("TRACE", "/books")).status_code == 405


async def test_a_guarded_operation_times_its_authenticate_step(
    secured_model: Model, database_url: str
) -> None:
    async with served(secured_model, database_url, jwt_secret=SECRET, server_timing=True) as client:
        private = await client.get("/orders", headers=STAFF)
        assert private.status_code == 200, private.text
        timed = [entry.split(";")[0] for entry in private.headers["server-timing"].split(", ")]
        assert timed == ["auth", "conditions", "parse", "execute", "total"]
        assert private.headers.get_list("cache-control") == ["no-store"]
        refused_early = await client.get("/orders")
        assert refused_early.status_code == 401
        assert refused_early.headers["server-timing"].startswith("auth;dur=")
        assert ", total;dur=" in refused_early.headers["server-timing"]
        assert "parse" not in refused_early.headers["server-timing"]


async def test_hsts_is_sent_when_configured(secured_model: Model, database_url: str) -> None:
    async with served(secured_model, database_url, jwt_secret=SECRET, hsts=31536000) as client:
        response = await client.get("/books")
        assert response.headers["strict-transport-security"] == "max-age=31536000"


# ------------------------------------------------------------------ closed by default
async def test_production_refuses_open_writes_and_missing_keys(
    bookshop_model: Model, secured_model: Model, database_url: str
) -> None:
    with pytest.raises(ExposureRefused) as open_writes:
        await start_app(bookshop_model, database_url, env="production", jwt_secret=SECRET)
    message = str(open_writes.value)
    assert "POST /authors (createAuthor) writes with no security requirement" in message
    assert "cancelOrder" in message
    with pytest.raises(ExposureRefused, match="no key is set"):
        await start_app(secured_model, database_url, env="production")
    with pytest.raises(ExposureRefused, match="too weak"):
        await start_app(secured_model, database_url, env="production", jwt_secret="secret")
    app = await start_app(secured_model, database_url, env="production", jwt_secret=SECRET)
    await stop_app(app)


# ------------------------------------------------------------------ CORS
async def test_cors_is_closed_unless_origins_are_configured(
    secured_model: Model, database_url: str
) -> None:
    site = {"Origin": "https://shop.example"}
    preflight = {**site, "Access-Control-Request-Method": "POST"}
    async with served(secured_model, database_url, jwt_secret=SECRET) as client:
        response = await client.get("/books", headers=site)
        assert "access-control-allow-origin" not in response.headers
    allowed = {"cors_origins": "https://shop.example", "cors_credentials": True}
    async with served(secured_model, database_url, jwt_secret=SECRET, **allowed) as client:
        response = await client.get("/books", headers=site)
        assert response.headers["access-control-allow-origin"] == "https://shop.example"
        assert response.headers["access-control-allow-credentials"] == "true"
        asked = await client.options("/orders", headers=preflight)
        assert asked.status_code == 200
        assert "POST" in asked.headers["access-control-allow-methods"]
        assert len(asked.headers["x-request-id"]) == 32  # a preflight is a request too
        assert response.headers.get_list("x-request-id") == [response.headers["x-request-id"]]
        other = await client.get("/books", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        refused_preflight = await client.options(
            "/orders", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert refused_preflight.status_code == 400


async def test_any_origin_with_credentials_does_not_start(
    secured_model: Model, database_url: str
) -> None:
    from backsmith.http.cors import CorsRefused

    with pytest.raises(CorsRefused, match="list the origins"):
        await start_app(secured_model, database_url, cors_origins="*", cors_credentials=True)


# ------------------------------------------------------------------ owners reached indirectly
LINKS = """  /customers/{id}/books/{bookId}:
    parameters:
      - $ref: '#/components/parameters/UuidId'
      - {name: bookId, in: path, required: true, schema: {type: string, format: uuid}}
    put:
      operationId: addCustomerBook
      security: [{bearerAuth: []}]
      responses:
        '200':
          description: The customer.
          content: {application/json: {schema: {$ref: '#/components/schemas/Customer'}}}
    delete:
      operationId: removeCustomerBook
      security: [{bearerAuth: []}]
      responses:
        '204': {description: Unlinked.}
components:
"""


@pytest.fixture(scope="module")
def indirect_model(tmp_path_factory: pytest.TempPathFactory) -> Model:
    """Links on owned customers, and order lines owned only through their order's path."""
    text = secure(BOOKSHOP.read_text(encoding="utf-8")).replace("components:\n", LINKS, 1)
    text = text.replace("      x-backsmith: {owner: order.customer_id}\n", "", 1)
    contract = tmp_path_factory.mktemp("indirect") / "api-spec.md"
    contract.write_text(text, encoding="utf-8")
    return load_model(contract)


async def test_links_and_nested_rows_follow_their_parents_owner(
    indirect_model: Model, database_url: str
) -> None:
    async with served(indirect_model, database_url, jwt_secret=SECRET) as client:
        alice, bob = await two_customers(client)
        book = alice.line["book_id"]
        link = f"/customers/{alice.id}/books/{book}"
        refused(await client.put(link, headers=bob.headers), 404)
        refused(await client.delete(link, headers=bob.headers), 404)
        assert (await client.put(link, headers=alice.headers)).status_code == 200
        lines = f"/orders/{alice.order['id']}/lines"
        line = f"{lines}/{alice.line['id']}"
        for method, path, body in (
            ("GET", lines, None),
            ("GET", line, None),
            ("PATCH", line, {"quantity": 99}),
            ("DELETE", line, None),
            ("POST", lines, _line(alice.line)),
        ):
            refused(await client.request(method, path, json=body, headers=bob.headers), 404)
        refused(await client.get(lines), 401)
        mine = await client.get(lines, headers=alice.headers)
        assert [item["quantity"] for item in mine.json()] == [1]


def test_owned_rows_embedded_from_elsewhere_are_a_contract_error(tmp_path: Path) -> None:
    from backsmith.errors import ContractError

    text = secure(BOOKSHOP.read_text(encoding="utf-8"))
    book = text.index("    Book:\n")
    at = text.index("      properties:\n", book) + len("      properties:\n")
    sold = "        sold: {type: integer, x-backsmith: {sum: order_lines.quantity}}\n"
    text = text[:at] + sold + text[at:]
    contract = tmp_path / "api-spec.md"
    contract.write_text(text, encoding="utf-8")
    with pytest.raises(ContractError, match=r"reaches rows that belong to their owners"):
        load_model(contract)


async def test_an_hmac_token_keyed_by_the_public_key_is_refused_without_a_secret(
    secured_model: Model, database_url: str, tmp_path: Path
) -> None:
    _, public = _rsa()
    pem = tmp_path / "public.pem"
    pem.write_bytes(public)
    claims = {"sub": str(uuid.uuid4()), "exp": int(time.time()) + 600}
    confused = bearer(_hmac_with(public, claims))
    only_public = {"jwt_public_key": str(pem), "jwt_algorithms": "HS256,RS256"}
    async with served(secured_model, database_url, **only_public) as client:
        refused(await client.get("/orders", headers=confused), 401)


FLAT_LINES = """  /order-lines/{id}:
    parameters:
      - $ref: '#/components/parameters/IntegerId'
    patch:
      operationId: changeOrderLine
      x-backsmith: {resource: order_lines}
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/OrderLinePatch'}}}
      responses:
        '200':
          description: The line.
          content: {application/json: {schema: {$ref: '#/components/schemas/OrderLine'}}}
components:
"""


async def test_a_line_moved_under_another_customers_order_is_refused(
    tmp_path: Path, database_url: str
) -> None:
    text = secure(BOOKSHOP.read_text(encoding="utf-8"))
    patch = text.index("    OrderLinePatch:")
    at = text.index("      properties:\n", patch) + len("      properties:\n")
    text = text[:at] + "        order_id: {type: string, format: uuid}\n" + text[at:]
    text = text.replace("components:\n", FLAT_LINES, 1)
    contract = tmp_path / "api-spec.md"
    contract.write_text(text, encoding="utf-8")
    async with served(load_model(contract), database_url, jwt_secret=SECRET) as client:
        alice, bob = await two_customers(client)
        to_alice = {"order_id": alice.order["id"]}
        path = f"/orders/{bob.order['id']}/lines/{bob.line['id']}"
        pinned = await client.patch(path, json=to_alice, headers=bob.headers)
        assert pinned.json()["order_id"] == bob.order["id"]  # the path names the order
        refused(
            await client.patch(
                f"/order-lines/{bob.line['id']}", json=to_alice, headers=bob.headers
            ),
            422,
        )
        assert (await client.get(path, headers=bob.headers)).json() == bob.line
        lines = await client.get(f"/orders/{alice.order['id']}/lines", headers=alice.headers)
        assert [line["id"] for line in lines.json()] == [alice.line["id"]]
