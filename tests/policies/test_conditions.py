"""Conditional requests: ETags on reads, If-None-Match, If-Match, require-if-match.

The contract (tests/fixtures/policies/versioned.yaml) honours If-Match on its notes when
sent, and requires it on its contracts. SQLite and PostgreSQL both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
import sqlalchemy as sa
from conftest import BOOKSHOP, FIXTURES, ROOT, bearer, client_for, served, start_app, stop_app

from backsmith.api import load_model
from backsmith.errors import BadRequest
from backsmith.http.app import BacksmithApp
from backsmith.model.types import Model
from backsmith.policies.conditions import ANY, entity_tag, parse_tags, strong_match, weak_match

pytestmark = pytest.mark.anyio

VERSIONED = FIXTURES / "policies" / "versioned.yaml"


@pytest.fixture(scope="module")
def versioned() -> Model:
    return load_model(VERSIONED)


@pytest.fixture
async def app(versioned: Model, database_url: str) -> AsyncIterator[BacksmithApp]:
    started = await start_app(versioned, database_url)
    yield started
    await stop_app(started)


@pytest.fixture
async def client(app: BacksmithApp) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as made:
        yield made


async def note(client: httpx.AsyncClient, text: str = "first") -> str:
    made = await client.post("/notes", json={"text": text})
    assert made.status_code == 201
    return f"/notes/{made.json()['id']}"


async def test_a_read_answers_a_strong_tag_that_changes_with_every_write(
    client: httpx.AsyncClient,
) -> None:
    at = await note(client)
    first = await client.get(at)
    tag = first.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"') and len(tag) == 22
    assert (await client.get(at)).headers["etag"] == tag  # the same bytes, the same tag
    assert (await client.patch(at, json={"text": "second"})).status_code == 200
    assert (await client.get(at)).headers["etag"] != tag
    assert (await client.patch(at, json={"text": "first"})).status_code == 200
    assert (await client.get(at)).headers["etag"] == tag  # the same representation again


async def test_if_none_match_answers_304_with_the_tag_and_no_body(
    client: httpx.AsyncClient,
) -> None:
    at = await note(client)
    tag = (await client.get(at)).headers["etag"]
    same = await client.get(at, headers={"If-None-Match": tag})
    assert same.status_code == 304 and same.content == b""
    assert same.headers["etag"] == tag
    listed = [f'"other", W/{tag}', "*"]  # a list, a weak form of it, any
    for sent in listed:
        assert (await client.get(at, headers={"If-None-Match": sent})).status_code == 304
    changed = await client.get(at, headers={"If-None-Match": '"stale"'})
    assert changed.status_code == 200 and changed.json()["text"] == "first"
    bad = await client.get(at, headers={"If-None-Match": "not-quoted"})
    assert bad.status_code == 400


async def test_a_list_answers_a_weak_tag_and_honours_if_none_match(
    client: httpx.AsyncClient,
) -> None:
    await note(client)
    first = await client.get("/notes")
    tag = first.headers["etag"]
    assert tag.startswith('W/"')
    assert (await client.get("/notes", headers={"If-None-Match": tag})).status_code == 304
    await note(client, "another")
    again = await client.get("/notes", headers={"If-None-Match": tag})
    assert again.status_code == 200 and len(again.json()) == 2


async def test_if_match_writes_only_over_the_version_it_names(client: httpx.AsyncClient) -> None:
    at = await note(client)
    tag = (await client.get(at)).headers["etag"]
    changed = await client.patch(at, json={"text": "second"}, headers={"If-Match": tag})
    assert changed.status_code == 200
    # The answer carries the new tag: the one a GET answers now.
    assert changed.headers["etag"] == (await client.get(at)).headers["etag"] != tag
    stale = await client.patch(at, json={"text": "third"}, headers={"If-Match": tag})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["code"] == "BSM411"
    assert (await client.get(at)).json()["text"] == "second"  # nothing written
    weak = f"W/{changed.headers['etag']}"  # If-Match compares strongly: a weak tag never matches
    assert (await client.put(at, json={"text": "x"}, headers={"If-Match": weak})).status_code == 412
    replaced = await client.put(
        at, json={"text": "fourth"}, headers={"If-Match": f'"nope", {changed.headers["etag"]}'}
    )
    assert replaced.status_code == 200 and replaced.json()["text"] == "fourth"
    assert (await client.delete(at, headers={"If-Match": tag})).status_code == 412
    assert (await client.delete(at, headers={"If-Match": "*"})).status_code == 204
    assert (
        await client.patch(at, json={"text": "x"}, headers={"If-Match": "*"})
    ).status_code == 404


async def test_a_change_made_outside_the_service_changes_the_tag(
    app: BacksmithApp, client: httpx.AsyncClient
) -> None:
    at = await note(client)
    tag = (await client.get(at)).headers["etag"]
    async with app.engine.begin() as conn:
        await conn.execute(sa.text("UPDATE notes SET text = 'by hand'"))
    assert (await client.get(at, headers={"If-None-Match": tag})).status_code == 200
    stale = await client.patch(at, json={"text": "mine"}, headers={"If-Match": tag})
    assert stale.status_code == 412


async def test_of_two_writers_holding_one_tag_exactly_one_wins(
    client: httpx.AsyncClient,
) -> None:
    at = await note(client)
    tag = (await client.get(at)).headers["etag"]

    async def write(text: str) -> int:
        answer = await client.patch(at, json={"text": text}, headers={"If-Match": tag})
        return answer.status_code

    statuses = sorted(await asyncio.gather(*(write(f"writer {n}") for n in range(8))))
    assert statuses == [200] + [412] * 7


async def test_require_if_match_refuses_a_blind_write_with_428(
    client: httpx.AsyncClient,
) -> None:
    made = await client.post("/contracts", json={"party": "Acme", "amount_cents": 100})
    at = f"/contracts/{made.json()['id']}"
    blind = await client.patch(at, json={"amount_cents": 200})
    assert blind.status_code == 428 and blind.json()["code"] == "BSM412"
    assert (await client.delete(at)).status_code == 428
    tag = (await client.get(at)).headers["etag"]
    changed = await client.patch(at, json={"amount_cents": 200}, headers={"If-Match": tag})
    assert changed.status_code == 200 and changed.json()["amount_cents"] == 200
    # The notes only honour If-Match: a write without it is not refused.
    assert (await client.patch(await note(client), json={"text": "x"})).status_code == 200


def test_tags_are_parsed_and_compared_as_rfc_9110_says() -> None:
    tag = entity_tag(b"{}")
    assert parse_tags(' "a" ,W/"b",""', "If-Match") == ('"a"', 'W/"b"', '""')
    assert parse_tags(" * ", "If-Match") == ANY
    for bad in ("a", '"a" "b"', '"a', ",", ""):
        with pytest.raises(BadRequest):
            parse_tags(bad, "If-Match")
    assert strong_match((tag.decode(),), tag) and strong_match(ANY, tag)
    assert not strong_match((f"W/{tag.decode()}",), tag)
    assert weak_match((f"W/{tag.decode()}",), tag)
    assert weak_match((tag.decode(),), entity_tag(b"{}", weak=True))
    assert not weak_match(('"other"',), tag)


SECRET = "conditions-test-secret-of-32-bytes-long"
BOOK = {"title": "The Dispossessed", "isbn": "9780060512750", "price_cents": 1599}


async def test_a_link_and_a_nested_write_change_the_tag_of_what_they_show(
    database_url: str,
) -> None:
    async with served(load_model(BOOKSHOP), database_url, jwt_secret=SECRET) as shop:
        author = (await shop.post("/authors", json={"name": "Ursula K. Le Guin"})).json()
        book = (await shop.post("/books", json={**BOOK, "author_id": author["id"]})).json()
        customer = await shop.post("/customers", json={"email": "a@b.example", "name": "A"})
        at = f"/books/{book['slug']}"
        tag = (await shop.get(at)).headers["etag"]
        wished = await shop.post(f"{at}/wishlist", headers=bearer(SECRET, customer.json()["id"]))
        assert wished.status_code == 200  # the book's wishlisted_count moved: so did its tag
        assert (await shop.get(at, headers={"If-None-Match": tag})).status_code == 200
        stale = await shop.patch(at, json={"price_cents": 1}, headers={"If-Match": tag})
        assert stale.status_code == 412
        order = (await shop.post("/orders", json={"customer_id": customer.json()["id"]})).json()
        order_tag = (await shop.get(f"/orders/{order['id']}")).headers["etag"]
        line = {"book_id": book["id"], "quantity": 2, "unit_price_cents": 1599}
        added = await shop.post(f"/orders/{order['id']}/lines", json=line)
        assert added.status_code == 201, added.text  # the order embeds its lines and total
        assert (await shop.get(f"/orders/{order['id']}")).headers["etag"] != order_tag


async def test_the_documented_bookshop_calls_answer_as_the_docs_say(database_url: str) -> None:
    page = (ROOT / "docs" / "conditional-requests.md").read_text(encoding="utf-8")
    shown = page.split("## Try it on the bookshop")[1].split("```sh\n")[1].split("```")[0]
    expected = [line[2:] for line in shown.splitlines() if line.startswith("# ")]
    bodies = [
        orjson.loads(line.split("-d '")[1].rstrip("'"))
        for line in shown.splitlines()
        if "-d '" in line
    ]
    async with served(load_model(BOOKSHOP), database_url) as shop:
        assert (await shop.post("/authors", json=bodies[0])).status_code == 201
        read = await shop.get("/authors/1")
        tag = read.headers["etag"]
        answers = [
            read,
            await shop.get("/authors/1", headers={"If-None-Match": tag}),
            await shop.patch("/authors/1", json=bodies[1], headers={"If-Match": tag}),
            await shop.patch("/authors/1", json=bodies[2], headers={"If-Match": tag}),
        ]
    said = [f"HTTP/1.1 {answer.status_code} {answer.reason_phrase}" for answer in answers]
    said.insert(1, f"etag: {tag}")
    assert said == [line.replace("<tag>", tag[1:-1]) for line in expected]
    assert answers[3].json()["code"] == "BSM411"
