"""Inline schemas and `.json` suffixed paths over HTTP (tests/fixtures/inline/forum.yaml).

No component schema names a table there: the posts, comments and vehicles tables are
inferred from their collection/item path pairs, and `/posts/{id}.json` is the posts item, so
a created post is found at the suffixed path its Location names.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from conftest import FIXTURES, served

from backsmith.api import load_model

pytestmark = pytest.mark.anyio

FORUM = FIXTURES / "inline" / "forum.yaml"


@pytest.fixture
async def forum(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with served(load_model(FORUM), database_url) as client:
        yield client


async def test_a_created_post_is_located_at_its_suffixed_item_path(
    forum: httpx.AsyncClient,
) -> None:
    created = await forum.post("/posts.json", json={"title": "Hello", "raw": "First post"})
    assert created.status_code == 201, created.text
    post = created.json()
    assert post["title"] == "Hello" and isinstance(post["id"], int)
    assert created.headers["location"] == f"/posts/{post['id']}.json"

    read = await forum.get(created.headers["location"])
    assert read.status_code == 200, read.text
    assert read.json() == post


async def test_posts_are_listed_replaced_and_deleted_at_suffixed_paths(
    forum: httpx.AsyncClient,
) -> None:
    first = (await forum.post("/posts.json", json={"title": "One"})).json()
    second = (await forum.post("/posts.json", json={"title": "Two"})).json()

    listed = await forum.get("/posts.json")
    assert listed.status_code == 200, listed.text
    assert {p["title"] for p in listed.json()["latest_posts"]} == {"One", "Two"}

    replaced = await forum.put(
        f"/posts/{first['id']}.json", json={"post": {"title": "One, again", "raw": "edited"}}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["post"]["title"] == "One, again"
    assert (await forum.get(f"/posts/{first['id']}.json")).json()["raw"] == "edited"

    deleted = await forum.delete(f"/posts/{second['id']}.json")
    assert deleted.status_code == 204, deleted.text
    assert (await forum.get(f"/posts/{second['id']}.json")).status_code == 404
    assert [p["id"] for p in (await forum.get("/posts.json")).json()["latest_posts"]] == [
        first["id"]
    ]


async def test_the_unsuffixed_path_is_not_served(forum: httpx.AsyncClient) -> None:
    post = (await forum.post("/posts.json", json={"title": "Hello"})).json()
    assert (await forum.get(f"/posts/{post['id']}")).status_code == 404
    assert (await forum.get(f"/posts/{post['id']}.json")).status_code == 200


async def test_comments_are_scoped_by_the_post_their_suffixed_path_names(
    forum: httpx.AsyncClient,
) -> None:
    one = (await forum.post("/posts.json", json={"title": "One"})).json()
    two = (await forum.post("/posts.json", json={"title": "Two"})).json()
    created = await forum.post(f"/posts/{one['id']}/comments.json", json={"body": "Nice"})
    assert created.status_code == 201, created.text
    comment = created.json()
    assert comment["post_id"] == one["id"]
    location = f"/posts/{one['id']}/comments/{comment['id']}.json"
    assert created.headers["location"] == location

    assert (await forum.get(location)).json() == comment
    listed = await forum.get(f"/posts/{one['id']}/comments.json")
    assert listed.json()["data"] == [comment]
    assert (await forum.get(f"/posts/{two['id']}/comments.json")).json()["data"] == []
    elsewhere = f"/posts/{two['id']}/comments/{comment['id']}.json"
    assert (await forum.get(elsewhere)).status_code == 404


async def test_vehicles_over_bare_inline_objects(forum: httpx.AsyncClient) -> None:
    created = await forum.post("/vehicles", json={"brand": "Volvo", "year": 2020})
    assert created.status_code == 201, created.text
    vehicle = created.json()
    assert created.headers["location"] == f"/vehicles/{vehicle['id']}"

    updated = await forum.patch(f"/vehicles/{vehicle['id']}", json={"year": 2021})
    assert updated.status_code == 200, updated.text
    assert updated.json() == {**vehicle, "year": 2021}
    assert (await forum.get("/vehicles")).json() == [{**vehicle, "year": 2021}]


async def test_a_part_of_a_row_stays_custom(forum: httpx.AsyncClient) -> None:
    vehicle = (await forum.post("/vehicles", json={"brand": "Volvo"})).json()
    answer = await forum.get(f"/vehicles/{vehicle['id']}/location")
    assert answer.status_code == 501, answer.text


async def test_a_create_needs_only_what_its_body_requires(forum: httpx.AsyncClient) -> None:
    # the list answer requires `raw`; the create body does not: the column takes null
    created = await forum.post("/posts.json", json={"title": "No body"})
    assert created.status_code == 201, created.text
    assert "raw" not in created.json()  # this answer may leave it out, and does
    assert (await forum.get("/posts.json")).json()["latest_posts"][0]["raw"] is None
