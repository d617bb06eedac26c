"""Tables inferred from inline schemas, and paths with a format suffix, without HTTP.

A collection/item path pair over inline objects (`/vehicles`, `/vehicles/{vehicleId}`) is a
table named after its segment; `/posts/{id}.json` is the posts item. Corpus contracts that
write every schema inline (enode, nexmo, discourse) are read in place.
"""

from __future__ import annotations

from functools import cache

import pytest
from conftest import CORPUS, FIXTURES, needs_shared

from backsmith.api import load_model
from backsmith.model.paths import bare_path, path_segments
from backsmith.model.types import Kind, Model, ParamRole

FORUM = FIXTURES / "inline" / "forum.yaml"
ENODE = CORPUS / "openapi" / "apis-guru" / "enode.io__default.yaml"
NEXMO = CORPUS / "openapi" / "apis-guru" / "nexmo.com__conversation.json"
DISCOURSE = CORPUS / "openapi" / "oas31" / "apisguru-via-schemathesis__discourse.local.json"
TRAIN = CORPUS / "openapi" / "train-travel.yaml"


@cache
def model_of(path: str) -> Model:
    return load_model(path)


def kinds(model: Model) -> dict[str, tuple[str, str | None]]:
    return {f"{op.method} {op.path}": (op.kind.value, op.resource) for op in model.operations}


def test_a_format_suffix_is_no_part_of_a_segment() -> None:
    assert path_segments("/posts/{id}.json") == ["posts", "{id}"]
    assert path_segments("/admin/badges.xml") == ["admin", "badges"]
    assert bare_path("/posts/{postId}/comments.json") == "/posts/{postId}/comments"
    assert path_segments("/files/{name}") == ["files", "{name}"]


def test_the_fixture_infers_a_table_per_collection_item_pair() -> None:
    model = load_model(FORUM)
    assert set(model.resources) == {"posts", "comments", "vehicles"}
    assert model.resources["vehicles"].key.column == "id"
    assert [(r.columns, r.target) for r in model.resources["comments"].relations] == [
        (("post_id",), "posts")
    ]
    assert kinds(model) == {
        "GET /posts.json": ("list", "posts"),
        "POST /posts.json": ("create", "posts"),
        "GET /posts/{id}.json": ("read", "posts"),
        "PUT /posts/{id}.json": ("replace", "posts"),
        "DELETE /posts/{id}.json": ("delete", "posts"),
        "GET /posts/{postId}/comments.json": ("list", "comments"),
        "POST /posts/{postId}/comments.json": ("create", "comments"),
        "GET /posts/{postId}/comments/{commentId}.json": ("read", "comments"),
        "GET /vehicles": ("list", "vehicles"),
        "POST /vehicles": ("create", "vehicles"),
        "GET /vehicles/{vehicleId}": ("read", "vehicles"),
        "PATCH /vehicles/{vehicleId}": ("update", "vehicles"),
        "GET /vehicles/{vehicleId}/location": ("custom", None),
    }
    read = next(op for op in model.operations if op.path == "/posts/{id}.json")
    assert [(p.name, p.role, p.column) for p in read.params] == [("id", ParamRole.KEY, "id")]


@needs_shared
@pytest.mark.parametrize(
    ("contract", "operation", "kind", "resource"),
    [
        (ENODE, "GET /vehicles", "list", "vehicles"),
        (ENODE, "GET /vehicles/{vehicleId}", "read", "vehicles"),
        (ENODE, "GET /chargers", "list", "chargers"),
        (ENODE, "POST /charging-locations", "create", "charging_locations"),
        (ENODE, "PUT /charging-locations/{chargingLocationId}", "replace", "charging_locations"),
        (ENODE, "DELETE /charging-locations/{chargingLocationId}", "delete", "charging_locations"),
        (ENODE, "GET /vehicles/{vehicleId}/location", "custom", None),  # a part of a row
        (ENODE, "GET /me", "custom", None),  # a singleton
        (NEXMO, "GET /conversations", "list", "conversations"),  # HAL: _embedded.conversations
        (NEXMO, "GET /conversations/{conversation_id}", "read", "conversations"),
        (NEXMO, "GET /conversations/{conversation_id}/members", "list", "members"),
        (NEXMO, "POST /conversations/{conversation_id}/members", "create", "members"),
        (NEXMO, "DELETE /conversations/{conversation_id}/members/{member_id}", "delete", "members"),
        (NEXMO, "POST /users", "create", "users"),
        (NEXMO, "PUT /users/{user_id}", "replace", "users"),
        (NEXMO, "GET /legs", "list", "legs"),
        (DISCOURSE, "GET /posts.json", "list", "posts"),  # {latest_posts: [...]}
        (DISCOURSE, "POST /posts.json", "create", "posts"),
        (DISCOURSE, "GET /posts/{id}.json", "read", "posts"),
        (DISCOURSE, "PUT /posts/{id}.json", "replace", "posts"),  # {post: {...}} both ways
        (DISCOURSE, "DELETE /posts/{id}.json", "delete", "posts"),
        (DISCOURSE, "GET /admin/badges.json", "list", "badges"),  # badges beside badge_types
        (DISCOURSE, "DELETE /admin/badges/{id}.json", "delete", "badges"),
        (DISCOURSE, "GET /categories.json", "list", "categories"),  # category_list.categories
        (DISCOURSE, "GET /tag_groups/{id}.json", "read", "tag_groups"),
        (DISCOURSE, "GET /t/{id}.json", "custom", None),  # an item with no collection path
        (DISCOURSE, "PUT /admin/users/{id}/suspend.json", "custom", None),  # an action
        (DISCOURSE, "GET /site.json", "custom", None),  # a singleton
        (TRAIN, "GET /trips", "custom", None),  # a search with no item path to name rows by
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else None,
)
def test_corpus_operations_over_inline_schemas(
    contract: object, operation: str, kind: str, resource: str | None
) -> None:
    found = kinds(model_of(str(contract)))
    assert found[operation] == (kind, resource)


@needs_shared
def test_a_nested_inline_table_refers_to_its_parent() -> None:
    members = model_of(str(NEXMO)).resources["members"]
    assert ("conversations", ("conversation_id",)) in {
        (r.target, r.columns) for r in members.relations
    }
    listed = next(
        op
        for op in model_of(str(NEXMO)).operations
        if op.method == "GET" and op.path == "/conversations/{conversation_id}/members"
    )
    scope = next(p for p in listed.params if p.name == "conversation_id")
    assert (scope.role, scope.column) == (ParamRole.SCOPE, "conversation_id")


@needs_shared
def test_a_pair_answering_a_component_is_left_to_the_component_rules() -> None:
    # /conversations/{id}/events answers EventRetrieved: no inline `events` table beside it
    assert "events" not in model_of(str(NEXMO)).resources
    assert all(op.kind != Kind.CUSTOM or op.reason for op in model_of(str(NEXMO)).operations)


@needs_shared
def test_an_item_answer_holds_its_row_beside_other_objects() -> None:
    # GET /groups/{id}.json answers {group: {...}, extras: {...}}: the group is the row
    read = next(
        op
        for op in model_of(str(DISCOURSE)).operations
        if op.method == "GET" and op.path == "/groups/{id}.json"
    )
    assert read.response is not None and read.response.envelope.wrapper == "group"


@needs_shared
def test_columns_an_answer_always_shows_are_required_only_where_writes_require_them() -> None:
    groups = model_of(str(DISCOURSE)).resources["groups"]
    name, membership = groups.field("name"), groups.field("allow_membership_requests")
    assert name is not None and membership is not None
    assert membership.nullable  # shown by every answer, never sent by a create
