"""Drafting reads what a person reads, and never fails on what it cannot read.

Each test is a shape real prose specs take that an earlier reading got wrong: a number in
a sentence taken for a status, a table of contents or a cross-reference taken for the
endpoint's own section, `/users/me` folded into `/users/{id}`, a base path read from a
sentence, a call to another company's API served as one's own, auth read from the wrong
sentence. The last tests throw arbitrary Markdown at drafting and at `check`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backsmith import api
from backsmith.contract.draft.spec import Draft, draft_spec
from backsmith.errors import ContractError


def _draft(text: str) -> Draft:
    return draft_spec(text, "spec.md")


def _endpoints(draft: Draft) -> list[str]:
    return [f"{one.endpoint.method} {one.endpoint.path}" for one in draft.endpoints]


def _security(draft: Draft, method: str, path: str) -> Any:
    return draft.document["paths"][path][method.lower()].get("security", "the document's")


def test_a_request_label_after_a_sentence_that_says_returns_is_the_request() -> None:
    draft = _draft(
        "### POST /users\nReturns the created user.\n\n**Request**\n```json\n"
        '{"name": "Ann"}\n```\n**Response**\n```json\n{"id": 1, "name": "Ann"}\n```\n'
    )
    one = draft.endpoints[0]
    assert one.details.request is not None and one.details.request.line == 6
    assert list(one.details.answers) == ["default"]


def test_numbers_in_sentences_and_fields_are_not_statuses() -> None:
    draft = _draft(
        "### POST /users\n- name (string, required): max 255 characters\n"
        "- limit (integer): page size, up to 500\n\nReturns up to 250 users. Max size 500 KB.\n"
    )
    one = draft.endpoints[0]
    assert one.details.answers == {}
    assert one.details.request is not None
    assert [f.name for f in one.details.request.fields] == ["name", "limit"]


def test_a_table_of_contents_and_a_cross_reference_leave_each_section_its_own() -> None:
    draft = _draft(
        "# API\n- [POST /orders](#create-order)\n\n## Create order\n### POST /orders\n"
        '```json\n{"item": "pen"}\n```\nSee also: `GET /orders/{id}` to poll its status.\n\n'
        '### GET /orders/{id}\n```json\n{"id": 1, "item": "pen"}\n```\n'
    )
    assert _endpoints(draft) == ["POST /orders", "GET /orders/{id}"]
    post, get = draft.endpoints
    assert post.endpoint.primary.how == "heading" and post.details.request is not None
    assert get.details.request is None and list(get.details.answers) == ["default"]


def test_a_word_beside_a_template_is_an_endpoint_of_its_own() -> None:
    draft = _draft("### GET /users/{id}\n\n### GET /users/me\n\n### GET /orders\n")
    assert _endpoints(draft) == ["GET /users/{id}", "GET /users/me", "GET /orders"]


def test_examples_with_values_name_their_parameters_after_the_collection() -> None:
    draft = _draft("### GET /orders/42/items/7\n### GET /a/:order-id\n")
    assert _endpoints(draft) == ["GET /orders/{orderId}/items/{itemId}", "GET /a/{orderId}"]


def test_the_base_path_is_said_before_the_endpoints_in_a_base_line() -> None:
    draft = _draft("### GET /articles\nThe base price is read from `/prices/current`.\n")
    assert draft.base == "" and _endpoints(draft) == ["GET /articles"]


def test_only_placeholder_paths_are_placeholders() -> None:
    draft = _draft(
        "### GET /api/resources/{id}\n### GET /api/my-orders\n### POST /api/url\n"
        "### GET /api/endpoint\n"
    )
    assert _endpoints(draft) == ["GET /api/resources/{id}", "GET /api/my-orders", "POST /api/url"]
    assert [s.path for s in draft.skipped] == ["/api/endpoint"]


def test_a_call_to_another_host_is_not_one_of_the_service_s_endpoints() -> None:
    draft = _draft(
        "Base URL: `https://api.shop.example/v1`\n\n### GET /orders\n"
        "We call `GET https://maps.googleapis.com/maps/api/geocode/json`.\n"
    )
    assert _endpoints(draft) == ["GET /v1/orders"]
    assert [s.reason for s in draft.skipped] == ["an API the service calls, not one it serves"]


def test_a_method_touching_letters_of_another_script_is_still_read() -> None:
    draft = _draft("## 주문\n`/users` にGETリクエスト\n\n## 조회\n使用GET请求访问`/api/items`\n")
    assert _endpoints(draft) == ["GET /users", "GET /api/items"]


def test_auth_is_read_from_what_the_sentences_say_of_it() -> None:
    draft = _draft(
        "# API\nAll endpoints require `Authorization: Bearer <token>`; `GET /admin/stats` "
        "requires an admin token.\nThis API sets no cookies; paginate with `page`.\n\n"
        "### POST /auth/login\nSend it as `Authorization: Bearer <token>` on the other "
        "endpoints.\n### GET /profile\n### GET /admin/stats\n### PUT /users/{id}/password\n"
    )
    assert draft.document["security"] == [{"bearerAuth": []}]
    assert set(draft.document["components"]["securitySchemes"]) == {"bearerAuth"}
    assert _security(draft, "POST", "/auth/login") == []  # signing in, a guess
    for method, path in (("GET", "/profile"), ("GET", "/admin/stats")):
        assert _security(draft, method, path) == "the document's"
    assert _security(draft, "PUT", "/users/{id}/password") == "the document's"


def test_an_api_key_header_said_once_is_the_document_s_scheme() -> None:
    draft = _draft(
        "All requests must send your key in the `X-API-Key` header.\n\n### GET /things\n"
    )
    assert draft.document["security"] == [{"apiKeyAuth": []}]
    scheme = draft.document["components"]["securitySchemes"]["apiKeyAuth"]
    assert scheme == {"type": "apiKey", "in": "header", "name": "X-API-Key"}


def test_members_sharing_a_column_and_names_with_no_column_form_still_make_a_model(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "posts.md"
    spec.write_text(
        "### GET /api/posts\n```json\n"
        '[{"_id": "65a1b2c3d4e5f6a7b8c9d0e1", "title": "Hi", "createdAt": "2024-01-01T00:00:00Z",'
        ' "created_at": "2024-01-01T00:00:00Z", "\uc0c1\ud488\uba85": "x"}]\n```\n'
        '### POST /api/posts\n```json\n{"title": "Hi", "\uc0c1\ud488\uba85": "x"}\n```\n'
        "### GET /api/posts/:id\n",
        encoding="utf-8",
    )
    report = api.check(spec)  # builds the tables: no duplicate or nameless column
    assert {op.operation_id: op.kind.value for op in report.crud} == {
        "getApiPosts": "list",
        "postApiPosts": "create",
        "getApiPostsById": "read",
    }
    schema = draft_spec(spec.read_text(encoding="utf-8"), str(spec)).document
    post = schema["components"]["schemas"]["Post"]
    assert "_id" in post["properties"] and "created_at" not in post["properties"]
    assert post["properties"]["\uc0c1\ud488\uba85"]["x-backsmith"]["column"].startswith("field_")


def test_nesting_past_any_body_and_numbers_past_any_column_are_read_as_unknown() -> None:
    deep = "### POST /x\n```json\n" + '{"a": ' * 500 + "1" + "}" * 500 + "\n```\n"
    huge = (
        "### POST /y\n```json\n"
        + '{"n": '
        + "9" * 5000
        + "}\n```\n- limit: integer (default: one)\n"
    )
    for text in (deep, huge):
        assert _draft(text).endpoints


_PIECES = st.sampled_from(
    [
        "### GET /a/{id}\n",
        "## POST /a\n",
        "`PUT /a/:id`\n",
        "- GET: one\n",
        "### /a/{id}\n",
        "| Method | Path |\n|---|---|\n| GET | /b |\n",
        '```json\n{"id": 1, "x": [1,]}\n```\n',
        "```\nPOST /a HTTP/1.1\n\n{ name, age?: number }\n```\n",
        "Response 201:\n",
        "- 404: no\n",
        "| Field | Type | Required |\n|---|---|---|\n| `n` | string | yes |\n",
        "Base URL: `http://h/api`\n",
        "Auth: `Authorization: Bearer x` except `POST /a`\n",
        "curl -X POST http://h/api/a -d '{\"q\": 1}'\n",
        "{{baseUrl}}/a/7\n",
        "### \u4e3b GET /c\n",
        '```\n{ a: Array<{ b: "x" | "y" }> }\n```\n',
        "[\n",
        "`\n",
        "|\n",
        "**Method**: `GET`\n",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_PIECES, st.text(max_size=30)), max_size=12))
def test_any_markdown_drafts_and_checks_without_a_traceback(pieces: list[str]) -> None:
    text = "".join(pieces)
    draft = _draft(text)
    assert draft.document["openapi"] == "3.1.0"
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "spec.md"
        spec.write_text(text, encoding="utf-8")
        try:
            api.check(spec)
        except ContractError as error:  # a refusal is an answer: each issue names the file
            assert all(issue.file for issue in error.issues)


def test_methods_as_headings_under_a_path_and_a_method_with_no_path() -> None:
    draft = _draft(
        "### /orders/{id}\n#### GET\nOne order.\n#### DELETE\nCancel it.\n\n"
        "### POST\nSends a thing somewhere.\n"
    )
    assert _endpoints(draft) == ["GET /orders/{id}", "DELETE /orders/{id}"]
    assert draft.endpoints[0].details.description == "One order."
    assert [(s.method, s.path, s.reason) for s in draft.skipped] == [
        ("POST", "", "a method with no path")
    ]
