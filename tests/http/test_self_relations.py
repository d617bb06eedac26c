"""A table linked to itself, and lists scoped to the caller, on SQLite and PostgreSQL.

tests/fixtures/relations/social.yaml (with social.dbml): customers follow customers
through `follows(follower_id, followed_id)`, and write books (`books.author_id`). Each
direction is a relation of its own (`followers`, `followed`): the caller's follow link,
whether the caller follows a customer and whether that customer follows the caller, the
counts, the filters and the nested lists of both directions, and `GET /feed`, the books
of the authors the caller follows (`x-backsmith: {where: author.followers.follower_id =
caller}`), filtered, sorted and paged like any list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import FIXTURES, client_for, start_app, stop_app, write_file
from test_relations import SECRET, SelectCounter, as_user, problem, rows

from backsmith.api import load_model
from backsmith.http.app import BacksmithApp
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

CONTRACT = FIXTURES / "relations" / "social.yaml"
ANA, BOB, CY = 1, 2, 3


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model(CONTRACT)


@asynccontextmanager
async def social(
    model: Model, database_url: str
) -> AsyncIterator[tuple[BacksmithApp, httpx.AsyncClient]]:
    """The contract served with customers ana (1), bob (2) and cy (3), and their books:
    bob's "Bees", "Bridges" and "Boats", cy's "Clouds", ana's "Acorns"."""
    app = await start_app(model, database_url, jwt_secret=SECRET)
    try:
        async with client_for(app) as client:
            for handle in ("ana", "bob", "cy"):
                made = await client.post("/customers", json={"handle": handle, "name": handle})
                assert made.status_code == 201, made.text
            for title, author in (
                ("Bees", BOB),
                ("Bridges", BOB),
                ("Clouds", CY),
                ("Acorns", ANA),
                ("Boats", BOB),
            ):
                made = await client.post("/books", json={"title": title, "authorId": author})
                assert made.status_code == 201, made.text
            yield app, client
    finally:
        await stop_app(app)


async def follow(client: httpx.AsyncClient, who: int, handle: str) -> dict[str, Any]:
    response = await client.post(f"/customers/{handle}/follow", headers=as_user(who))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def relation(item: dict[str, Any]) -> tuple[bool, bool, int, int]:
    """(following, followsYou, followersCount, followedCount) of a customer."""
    return item["following"], item["followsYou"], item["followersCount"], item["followedCount"]


def handles(response: httpx.Response, key: str | None = "customers") -> list[str]:
    assert response.status_code == 200, response.text
    items = response.json()[key] if key else response.json()
    return [item["handle"] for item in items]


def titles(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["books"]]


# ---------------------------------------------------------------------- follow links


async def test_follow_adds_and_unfollow_removes_the_callers_row(
    model: Model, database_url: str
) -> None:
    async with social(model, database_url) as (app, client):
        path = "/customers/bob/follow"
        for anonymous in (await client.post(path), await client.delete(path)):
            problem(anonymous, 401)
            assert anonymous.headers["www-authenticate"].startswith("Bearer")
        for _ in range(2):  # idempotent
            bob = await follow(client, ANA, "bob")
            assert bob["handle"] == "bob"
            assert relation(bob) == (True, False, 1, 0)  # ana follows bob; bob not ana
        assert await rows(app, "select follower_id, followed_id from follows") == [(ANA, BOB)]

        ana = await follow(client, BOB, "ana")  # the other direction is another row
        assert relation(ana) == (True, True, 1, 1)
        assert sorted(await rows(app, "select follower_id, followed_id from follows")) == [
            (ANA, BOB),
            (BOB, ANA),
        ]

        for _ in range(2):  # idempotent
            response = await client.delete(path, headers=as_user(ANA))
            assert response.status_code == 200, response.text
            assert relation(response.json()) == (False, True, 0, 1)  # bob still follows ana
        assert await rows(app, "select follower_id, followed_id from follows") == [(BOB, ANA)]

        problem(await client.post("/customers/nobody/follow", headers=as_user(ANA)), 404)
        for subject in ("abc", 99):  # no possible customer key; no such customer
            refused = await client.post(path, headers=as_user(subject))
            assert problem(refused, 401)
            assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert await rows(app, "select follower_id, followed_id from follows") == [(BOB, ANA)]


# ------------------------------------------------------------- exists and counts


async def test_exists_and_counts_work_in_both_directions(model: Model, database_url: str) -> None:
    async with social(model, database_url) as (_, client):
        await follow(client, ANA, "bob")
        await follow(client, ANA, "cy")
        await follow(client, BOB, "ana")

        read = "/customers/ana"
        # bob follows ana, and ana follows bob
        assert relation((await client.get(read, headers=as_user(BOB))).json()) == (
            True,
            True,
            1,
            2,
        )
        # cy does not follow ana, but ana follows cy
        assert relation((await client.get(read, headers=as_user(CY))).json()) == (
            False,
            True,
            1,
            2,
        )
        # anonymous (the operation admits it): counts alike, nothing about a caller
        assert relation((await client.get(read)).json()) == (False, False, 1, 2)
        # ana herself
        assert relation((await client.get(read, headers=as_user(ANA))).json()) == (
            False,
            False,
            1,
            2,
        )

        listed = (await client.get("/customers", headers=as_user(ANA))).json()["customers"]
        assert {c["handle"]: relation(c) for c in listed} == {
            "ana": (False, False, 1, 2),
            "bob": (True, True, 1, 1),
            "cy": (True, False, 1, 0),
        }


# ------------------------------------------------------- filters and nested lists


async def test_filters_sorts_and_nested_lists_work_in_both_directions(
    model: Model, database_url: str
) -> None:
    async with social(model, database_url) as (_, client):
        await follow(client, ANA, "bob")
        await follow(client, ANA, "cy")
        await follow(client, BOB, "cy")
        await follow(client, CY, "ana")

        # ?follows=cy: who follows cy (filter: followed.handle)
        assert sorted(handles(await client.get("/customers?follows=cy"))) == ["ana", "bob"]
        # ?followedBy=ana: whom ana follows (filter: followers.handle)
        assert sorted(handles(await client.get("/customers?followedBy=ana"))) == ["bob", "cy"]
        assert handles(await client.get("/customers?follows=cy&followedBy=ana")) == ["bob"]
        assert handles(await client.get("/customers?follows=nobody")) == []
        assert handles(await client.get("/customers?followersCount=2")) == ["cy"]
        ranked = handles(await client.get("/customers?sort=-followersCount,handle"))
        assert ranked == ["cy", "ana", "bob"]

        assert sorted(handles(await client.get("/customers/cy/followers"), None)) == [
            "ana",
            "bob",
        ]
        assert handles(await client.get("/customers/cy/followed"), None) == ["ana"]
        assert sorted(handles(await client.get("/customers/ana/followed"), None)) == ["bob", "cy"]
        assert handles(await client.get("/customers/bob/followers"), None) == ["ana"]
        problem(await client.get("/customers/nobody/followers"), 404)


# ------------------------------------------------------------------------- the feed


async def test_the_feed_lists_books_by_authors_the_caller_follows(
    model: Model, database_url: str
) -> None:
    async with social(model, database_url) as (app, client):
        await follow(client, ANA, "bob")
        await follow(client, ANA, "cy")
        await follow(client, BOB, "ana")
        newest_first = ["Boats", "Clouds", "Bridges", "Bees"]  # the default sort

        seen: list[str] = []
        cursors = 0
        page = await client.get("/feed?limit=3", headers=as_user(ANA))
        while True:
            seen += titles(page)
            cursor = page.json()["nextCursor"]
            if cursor is None:
                break
            cursors += 1
            page = await client.get(f"/feed?limit=3&cursor={cursor}", headers=as_user(ANA))
        assert (seen, cursors) == (newest_first, 1)
        assert titles(await client.get("/feed", headers=as_user(BOB))) == ["Acorns"]
        assert titles(await client.get("/feed", headers=as_user(CY))) == []  # follows no one

        # the usual filters and sorts on top
        assert titles(await client.get("/feed?author=bob", headers=as_user(ANA))) == [
            "Boats",
            "Bridges",
            "Bees",
        ]
        assert titles(await client.get("/feed?author=ana", headers=as_user(ANA))) == []
        sorted_by_title = await client.get("/feed?sort=title", headers=as_user(ANA))
        assert titles(sorted_by_title) == sorted(newest_first)
        author = (await client.get("/feed?limit=1", headers=as_user(ANA))).json()["books"][0]
        assert author["author"] == {"handle": "bob", "name": "bob"}

        # one statement for the page (a semi-join through follows), one for the authors
        counter = SelectCounter(app)
        selects, listed = await counter.count(client.get("/feed", headers=as_user(ANA)))
        assert (selects, titles(listed)) == (2, newest_first)
        page_sql = next(s for s in counter.statements if "follows" in s)
        assert "JOIN" not in page_sql.upper()

        anonymous = await client.get("/feed")
        problem(anonymous, 401)
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        # a subject that can be no customer's key is related to nothing
        assert titles(await client.get("/feed", headers=as_user("abc"))) == []

        unfollowed = await client.delete("/customers/bob/follow", headers=as_user(ANA))
        assert unfollowed.status_code == 200, unfollowed.text
        assert titles(await client.get("/feed", headers=as_user(ANA))) == ["Clouds"]


def feed_contract(tmp_path: Path, security: str, where: str = "") -> Model:
    """The fixture contract with the feed's security (and `where`) replaced."""
    text = CONTRACT.read_text(encoding="utf-8")
    old = "      security: [{bearer: []}]\n      parameters:\n        - {name: author"
    assert text.count(old) == 1
    text = text.replace(old, old.replace("[{bearer: []}]", security))
    if where:
        text = text.replace("author.followers.follower_id = caller", where)
    write_file(tmp_path, "social.dbml", (CONTRACT.parent / "social.dbml").read_text())
    return load_model(write_file(tmp_path, "social.yaml", text))


@pytest.mark.parametrize(
    ("security", "anonymous"),
    [
        pytest.param("[{}, {bearer: []}]", 200, id="optional-security-empty-list"),
        pytest.param("[]", 200, id="public-empty-list"),
        pytest.param("[{bearer: []}]", 401, id="required-401"),
    ],
)
async def test_an_anonymous_caller_of_the_feed(
    tmp_path: Path, database_url: str, security: str, anonymous: int
) -> None:
    model = feed_contract(tmp_path, security)
    async with social(model, database_url) as (_, client):
        await follow(client, ANA, "cy")
        response = await client.get("/feed")
        assert response.status_code == anonymous, response.text
        if anonymous == 200:
            assert response.json() == {"books": [], "nextCursor": None}
        assert titles(await client.get("/feed", headers=as_user(ANA))) == ["Clouds"]


async def test_a_contract_that_says_nothing_about_security_asks_the_feed_for_a_caller(
    tmp_path: Path, database_url: str
) -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    old = (
        "      x-backsmith: {where: author.followers.follower_id = caller}\n"
        "      security: [{bearer: []}]\n"
    )
    assert old in text
    text = text.replace(old, "      x-backsmith: {where: author.followers = caller}\n")
    write_file(tmp_path, "social.dbml", (CONTRACT.parent / "social.dbml").read_text())
    model = load_model(write_file(tmp_path, "social.yaml", text))
    async with social(model, database_url) as (_, client):
        await follow(client, CY, "ana")
        problem(await client.get("/feed"), 401)
        # `author.followers` ends on the followers' rows: compared by their key
        assert titles(await client.get("/feed", headers=as_user(CY))) == ["Acorns"]


async def test_where_on_a_column_of_the_rows_lists_the_callers_own(
    tmp_path: Path, database_url: str
) -> None:
    model = feed_contract(tmp_path, "[{bearer: []}]", where="author_id = caller")
    async with social(model, database_url) as (_, client):
        assert titles(await client.get("/feed", headers=as_user(BOB))) == [
            "Boats",
            "Bridges",
            "Bees",
        ]
        assert titles(await client.get("/feed?limit=1", headers=as_user(ANA))) == ["Acorns"]
