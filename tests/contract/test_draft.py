"""Drafting a prose spec: the ways people write endpoints, bodies, fields and auth.

`tests/fixtures/draft/shop.md` writes its endpoints in most of the usual ways at once; the
small specs below each show one more. Every assertion names what a reader of the spec
would say the endpoint, the body or the answer is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, FIXTURES, needs_shared

from backsmith.contract.draft.sketch import SketchObject, TypeName, Union, Unknown, read_sketch
from backsmith.contract.draft.spec import Draft, draft_spec

SHOP = FIXTURES / "draft" / "shop.md"


def _draft(text: str) -> Draft:
    return draft_spec(text, "spec.md")


def _shop() -> Draft:
    return draft_spec(SHOP.read_text(encoding="utf-8"), str(SHOP))


def _endpoints(draft: Draft) -> list[str]:
    return [f"{one.endpoint.method} {one.endpoint.path}" for one in draft.endpoints]


def _operation(draft: Draft, method: str, path: str) -> dict[str, Any]:
    base = (draft.document.get("servers") or [{"url": ""}])[0]["url"]
    return draft.document["paths"][path[len(base) :] if base else path][method.lower()]


def _body(operation: dict[str, Any]) -> dict[str, Any]:
    return operation["requestBody"]["content"]["application/json"]["schema"]


def test_every_way_the_shop_writes_an_endpoint_is_found_once_under_its_base_path() -> None:
    draft = _shop()
    assert draft.base == "/api"
    assert _endpoints(draft) == [
        "POST /api/login",  # a POST in a sentence, the path in code
        "GET /api/products",  # a heading
        "POST /api/products",  # a heading with a trailing slash
        "GET /api/products/{id}",  # `:id` in code, and an HTTP example with 42
        "PUT /api/products/{id}",  # `<id>`, and a curl command with the host
        "GET /api/orders",  # a table of method | path
        "POST /api/orders",
        "GET /api/orders/{orderId}/lines",  # a table of path | method
        "GET /api/orders/{orderId}",  # bullets under a path; {{baseUrl}} and URL examples
        "DELETE /api/orders/{orderId}",
        "POST /api/products/{productId}/reviews",  # a raw HTTP request, a value in its path
    ]
    assert [(s.path, s.reason) for s in draft.skipped] == [
        ("/hooks/order-placed", "an API the service calls, not one it serves"),
        ("/api/endpoint", "a placeholder, not an endpoint"),
    ]


def test_examples_with_values_count_once_as_their_template() -> None:
    one = next(e for e in _shop().endpoints if e.endpoint.path == "/api/orders/{orderId}")
    assert one.endpoint.method == "GET"
    assert one.endpoint.lines == [89, 92]  # the bullet, and the line of both examples


def test_query_parameters_come_from_an_example_query_string() -> None:
    operation = _operation(_shop(), "GET", "/api/products")
    assert [(p["name"], p["in"]) for p in operation["parameters"]] == [
        ("page", "query"),
        ("limit", "query"),
        ("category", "query"),
    ]
    assert [p["schema"] for p in operation["parameters"]] == [
        {"type": "integer", "example": 1},
        {"type": "integer", "example": 20},
        {"type": "string", "example": "office"},
    ]


def test_a_field_table_gives_types_enums_and_required_marks() -> None:
    body = _body(_operation(_shop(), "POST", "/api/products"))
    assert body["required"] == ["name", "price"]
    assert body["properties"]["price"]["type"] == "number"
    assert body["properties"]["category"]["enum"] == ["office", "books"]
    assert body["properties"]["name"]["description"] == "its label on the shelf"


def test_broken_json_gives_its_body_and_null_says_nullable() -> None:
    draft = _shop()
    body = _body(_operation(draft, "POST", "/api/orders"))
    assert set(body["properties"]) == {"product_id", "quantity", "note"}
    assert body["properties"]["quantity"]["type"] == "integer"
    assert body["properties"]["product_id"]["description"] == "the product"
    order = draft.document["components"]["schemas"]["Order"]["properties"]
    assert order["note"]["type"] == ["string", "null"]


def test_typescript_notes_and_an_html_table_give_a_body_with_its_optional_members() -> None:
    body = _body(_operation(_shop(), "POST", "/api/products/{productId}/reviews"))
    assert body["required"] == ["stars"]
    assert body["properties"]["stars"]["type"] == "integer"  # the table says so over `number`
    assert body["properties"]["text"] == {"type": "string", "maxLength": 500}


def test_a_curl_command_gives_its_body_and_a_write_shown_without_one_takes_the_rows() -> None:
    put = _operation(_shop(), "PUT", "/api/products/{id}")
    assert set(_body(put)["properties"]) == {"name", "price", "category"}  # curl -d '{...}'
    draft = _draft(
        """### GET /notes/{id}
```json
{"id": 1, "text": "hi", "pinned": false}
```
### PATCH /notes/{id}
Change a note.
"""
    )
    patch = _operation(draft, "PATCH", "/notes/{id}")
    assert set(_body(patch)["properties"]) == {"text", "pinned"}
    guesses = patch["x-backsmith"]["guesses"]
    assert "the body is the fields of notes (the text shows none)" in guesses


def test_each_operation_and_schema_names_its_spec_line() -> None:
    draft = _shop()
    assert _operation(draft, "GET", "/api/products")["x-backsmith"]["source"] == "shop.md:17"
    assert draft.document["components"]["schemas"]["Product"]["x-backsmith"]["source"] == (
        "shop.md:24"  # its first example
    )
    assert draft.lines["/paths/~1products/get"] == 17
    assert draft.lines["/paths/~1products/post/requestBody"] == 35


def test_resources_are_tables_with_keys_and_references_in_the_drafted_dbml() -> None:
    draft = _shop()
    assert [r.table for r in draft.resources] == ["products", "orders"]
    assert "Table products {\n  id integer [pk, increment]" in draft.dbml
    assert "Ref: orders.product_id > products.id" in draft.dbml
    product_id = draft.document["components"]["schemas"]["Order"]["properties"]["product_id"]
    assert product_id["type"] == "integer"


def test_a_bearer_token_said_once_applies_to_all_but_the_endpoint_it_excepts() -> None:
    draft = _shop()
    assert draft.document["security"] == [{"bearerAuth": []}]
    assert _operation(draft, "POST", "/api/login")["security"] == []
    assert "security" not in _operation(draft, "GET", "/api/products")


def test_auth_said_per_endpoint_and_a_session_cookie() -> None:
    draft = _draft(
        """# Notes API

Authentication: a session cookie (`sid`) set on login.

### GET /notes
- 200: `{ "items": [ { "id": 1, "text": "hi" } ] }`

| Item | Value |
|---|---|
| **Method** | `POST` |
| **Path** | `/notes` |
| **Auth** | Not required |
"""
    )
    assert draft.document["components"]["securitySchemes"]["cookieAuth"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "sid",
    }
    assert _operation(draft, "POST", "/notes")["security"] == []
    assert "security" not in _operation(draft, "GET", "/notes")


@needs_shared
def test_a_recurring_wrapper_is_found_once_for_the_whole_spec() -> None:
    path = CORPUS / "markdown" / "13smaxis__tri-learn-classroom__api-spec.md"
    draft = draft_spec(path.read_text(encoding="utf-8"), str(path))
    assert draft.wrapper is not None
    assert draft.wrapper.key == "data" and draft.wrapper.members == ("success",)


def test_headings_and_prose_in_other_languages_do_not_matter() -> None:
    draft = _draft(
        """# API-Beschreibung

Basis-URL: `https://api.example.de/v2`

## Bestellungen anlegen

`POST /v2/bestellungen`

| Feld | Typ | Pflicht |
|---|---|---|
| `artikel` | string | ja |
| `menge` | integer | nein |

Antwort `201`:

```json
{ "id": "9b2f6c1e-3c1a-4d6e-9a51-2f0e0c7d8a11", "artikel": "Stift", "menge": 2 }
```

## 주문 조회

`GET /v2/bestellungen/{id}`

## Danh sách đơn hàng

`GET /v2/bestellungen`
"""
    )
    assert _endpoints(draft) == [
        "POST /v2/bestellungen",
        "GET /v2/bestellungen/{id}",
        "GET /v2/bestellungen",
    ]
    body = _body(_operation(draft, "POST", "/v2/bestellungen"))
    assert body["required"] == ["artikel"]
    key = draft.document["components"]["schemas"]["Bestellungen"]["properties"]["id"]
    assert key == {"type": "string", "format": "uuid", "readOnly": True}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a": 1, "b": [1, 2,],}', {"a": 1, "b": [1, 2]}),
        ("{a: 'x', // note\n b: true}", {"a": "x", "b": True}),
        ("{\u201ca\u201d: \u201cx\u201d}", {"a": "x"}),
        ("{ a, b?: number }", {"a": Unknown(), "b": TypeName("number")}),
        ('{ s: "on" | "off" }', {"s": Union(("on", "off"))}),
        ("Array<{ id: string }>", [{"id": TypeName("string")}]),
    ],
)
def test_bodies_are_read_from_json_broken_json_and_typescript_notes(text: str, value: Any) -> None:
    sketch = read_sketch(text)
    assert sketch is not None and sketch.value == value


def test_a_member_marked_with_a_question_mark_is_optional() -> None:
    sketch = read_sketch("{ name, parent_id?, sort_order? }")
    assert sketch is not None and isinstance(sketch.value, SketchObject)
    assert sketch.value.optional == {"parent_id", "sort_order"}


def test_formats_come_from_values_and_names() -> None:
    draft = _draft(
        """### POST /users
```json
{"email": "a@b.co", "site": "https://a.example", "born_on": "2000-01-02", "is_admin": false}
```
Response 201:
```json
{"id": 5, "email": "a@b.co", "created_at": "2024-01-01T00:00:00Z"}
```

### GET /users/{id}
"""
    )
    body = _body(_operation(draft, "POST", "/users"))["properties"]
    assert body["email"]["format"] == "email" and body["site"]["format"] == "uri"
    assert body["born_on"]["format"] == "date" and body["is_admin"]["type"] == "boolean"
    user = draft.document["components"]["schemas"]["User"]["properties"]
    assert user["created_at"]["format"] == "date-time"


def test_drafting_is_quick_on_a_large_spec(tmp_path: Path) -> None:
    """The 40 KB figure is measured outside the tests; here: a large spec drafts whole."""
    text = "\n".join(
        f'### GET /things{i}\n```json\n{{"items": [{{"id": {i}, "name": "n"}}]}}\n```\n'
        for i in range(400)
    )
    assert len(_endpoints(_draft(text))) == 400


def test_labels_names_before_the_method_and_method_and_url_on_lines_of_their_own() -> None:
    draft = _draft(
        """# API

### Create a user \u2014 POST /users
Body: `{ name: string }`

## Orders
**Method**: `POST`
**URL**: `/orders`

Endpoint: `GET /orders/{id}`

### 2. \u521b\u5efa\u8d2d\u7269\u8f66 POST /carts
"""
    )
    assert [(o.endpoint.method, o.endpoint.path, o.title) for o in draft.endpoints] == [
        ("POST", "/users", "Create a user"),
        ("POST", "/orders", ""),
        ("GET", "/orders/{id}", ""),
        ("POST", "/carts", "\u521b\u5efa\u8d2d\u7269\u8f66"),
    ]
    assert draft.endpoints[0].operation_id == "createAUser"
    assert draft.endpoints[3].operation_id == "postCarts"  # a title in other letters: the path


def test_a_parameters_table_a_status_table_and_typed_bullets() -> None:
    draft = _draft(
        """### GET /users/{id}

| Name | In | Type | Required | Description |
|---|---|---|---|---|
| id | path | integer | yes | the user |
| expand | query | boolean | no | embed more |

- `verbose` (boolean, optional): say more

| Status | Meaning |
|---|---|
| 200 | the user |
| 404 | no such user |

### POST /users
- `name` (string, required): the name
"""
    )
    get = _operation(draft, "GET", "/users/{id}")
    assert [(p["name"], p["in"], p["schema"]["type"]) for p in get["parameters"]] == [
        ("id", "path", "integer"),
        ("expand", "query", "boolean"),
        ("verbose", "query", "boolean"),
    ]
    assert {code: r["description"] for code, r in get["responses"].items()} == {
        "200": "the user",
        "404": "no such user",
    }
    body = _body(_operation(draft, "POST", "/users"))
    assert body["required"] == ["name"] and body["properties"]["name"]["description"] == "the name"


def test_a_type_defined_under_its_own_heading_is_a_schema_the_answers_refer_to() -> None:
    draft = _draft(
        """### GET /me

**Response `200 OK`**: `ApiResponse<UserResponse>`

```json
{ "success": true, "data": { "id": "550e8400-e29b-41d4-a716-446655440000" } }
```

## Data types

### UserResponse

| Field | Type | Nullable | Description |
|---|---|---|---|
| `id` | `UUID` | No | the user |
| `avatar` | `string` | Yes | a picture |
"""
    )
    schemas = draft.document["components"]["schemas"]
    assert schemas["UserResponse"]["properties"]["avatar"]["type"] == ["string", "null"]
    answer = _operation(draft, "GET", "/me")["responses"]["200"]
    data = answer["content"]["application/json"]["schema"]["properties"]["data"]
    assert data == {"$ref": "#/components/schemas/UserResponse"}
