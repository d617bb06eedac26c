"""Caching: a read's answers kept for its declared age, dropped by every write they came from.

The contract (tests/fixtures/policies/cached.yaml) caches its book reads, which embed the
book's author: a write to a book or to its author outdates them. SQLite and PostgreSQL
both; several instances sharing PostgreSQL and Redis at the end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from conftest import BOOKSHOP, FIXTURES, ROOT, bearer, client_for, served, start_app, stop_app
from policy_servers import Instance, start_instances

from backsmith.api import load_model
from backsmith.http.app import BacksmithApp
from backsmith.model.policies import read_policies
from backsmith.policies.caching import Generations, Store, tables_of

pytestmark = pytest.mark.anyio

CACHED = FIXTURES / "policies" / "cached.yaml"


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[BacksmithApp]:
    started = await start_app(load_model(CACHED), database_url)
    yield started
    await stop_app(started)


@pytest.fixture
async def client(app: BacksmithApp) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as made:
        yield made


async def book(client: httpx.AsyncClient, title: str = "Kindred") -> tuple[str, int]:
    author = await client.post("/authors", json={"name": "Octavia E. Butler"})
    made = await client.post("/books", json={"title": title, "author_id": author.json()["id"]})
    assert made.status_code == 201, made.text
    return f"/books/{made.json()['id']}", author.json()["id"]


async def test_a_cached_read_is_answered_from_the_store_with_its_age(
    app: BacksmithApp, client: httpx.AsyncClient
) -> None:
    at, _ = await book(client)
    first = await client.get(at)
    assert first.headers["cache-control"] == "max-age=30" and "age" not in first.headers
    assert app.cache is not None and app.cache.hits == 0
    again = await client.get(at)
    assert again.content == first.content and again.headers["age"] == "0"
    assert again.headers["cache-control"] == "max-age=30"
    assert again.headers["etag"] == first.headers["etag"]
    assert (
        await client.get(at, headers={"If-None-Match": first.headers["etag"]})
    ).status_code == 304
    assert app.cache.hits == 2
    assert (await client.get(f"{at}?x=1")).status_code == 200  # another query: another entry
    assert app.cache.hits == 2
    assert (await client.get("/books/999")).status_code == 404  # a 404 is not kept
    assert (await client.get("/books/999")).status_code == 404
    assert app.cache.hits == 2


async def test_every_write_a_read_came_from_outdates_it_at_once(client: httpx.AsyncClient) -> None:
    at, author = await book(client)
    assert (await client.get(at)).json()["title"] == "Kindred"
    assert len((await client.get("/books")).json()) == 1
    await client.patch(at, json={"title": "Fledgling"})
    assert (await client.get(at)).json()["title"] == "Fledgling"  # the writer's next read
    await client.patch(f"/authors/{author}", json={"name": "O. E. Butler"})
    assert (await client.get(at)).json()["author"]["name"] == "O. E. Butler"  # an embed's table
    await book(client, "Dawn")
    assert len((await client.get("/books")).json()) == 2


async def test_a_change_made_outside_shows_once_the_declared_age_has_passed(
    database_url: str, tmp_path: Path
) -> None:
    brief = tmp_path / "cached.yaml"
    brief.write_text(CACHED.read_text().replace("{cache: 30s}", "{cache: 1s}"))
    app = await start_app(load_model(brief), database_url)
    try:
        async with client_for(app) as client:
            at, _ = await book(client)
            assert (await client.get(at)).json()["title"] == "Kindred"
            async with app.engine.begin() as conn:
                await conn.execute(sa.text("UPDATE books SET title = 'by hand'"))
            assert (await client.get(at)).json()["title"] == "Kindred"  # kept, under 1 s old
            await asyncio.sleep(1.1)
            assert (await client.get(at)).json()["title"] == "by hand"
    finally:
        await stop_app(app)


def test_a_read_reaches_the_tables_of_its_embeds_and_a_write_those_it_touches() -> None:
    model = load_model(CACHED)
    by_id = {op.operation_id: op for op in model.operations}
    assert tables_of(by_id["readBook"], model) == {"books", "authors"}
    assert tables_of(by_id["updateAuthor"], model) == {"authors"}
    assert by_id["readBook"].policies.cache_seconds == 30
    assert by_id["createBook"].policies.cache_seconds is None


def test_the_store_keeps_its_newest_answers_within_its_capacity() -> None:
    generations = Generations()
    store = Store(2, generations)
    for key in ("a", "b", "a", "c"):
        store.put(key, None)  # type: ignore[arg-type]
    assert list(store.entries) == ["a", "c"]
    generations.bump(("books",))
    assert generations.snapshot(("books", "authors")) == (1, 0)


@pytest.mark.parametrize(
    ("value", "seconds"), [("30s", 30), ("5m", 300), ("1h", 3600), (45, 45), (False, 0)]
)
def test_cache_ages_are_read_as_written(value: object, seconds: int, tmp_path: Path) -> None:
    from backsmith.contract.load import load_contract

    written = tmp_path / "api.yaml"
    declared = "{cache: " + str(value).lower() + "}"
    text = CACHED.read_text().replace("{cache: 30s}", declared, 1)
    written.write_text(text)
    policies, issues = read_policies(load_contract(written), "/books", "get")
    assert not issues and policies.cache_seconds == seconds


@pytest.mark.postgres
async def test_a_write_on_one_instance_outdates_the_answers_kept_by_another(
    pg_database: str, redis_server: object, instances: list[Instance], tmp_path: Path
) -> None:
    env = {
        "BACKSMITH_DATABASE_URL": pg_database,
        "BACKSMITH_REDIS_URL": redis_server.url,  # type: ignore[attr-defined]
    }
    first, second = start_instances(2, CACHED, tmp_path, env, instances)
    async with httpx.AsyncClient(timeout=10) as client:
        author = await client.post(f"{first.base}/authors", json={"name": "N. K. Jemisin"})
        made = await client.post(
            f"{first.base}/books",
            json={"title": "The Fifth Season", "author_id": author.json()["id"]},
        )
        at = f"/books/{made.json()['id']}"
        for base in (first.base, second.base):  # both keep it now
            assert (await client.get(f"{base}{at}")).json()["title"] == "The Fifth Season"
        assert "age" in (await client.get(f"{second.base}{at}")).headers
        await client.patch(f"{first.base}{at}", json={"title": "The Obelisk Gate"})
        assert (await client.get(f"{first.base}{at}")).json()["title"] == "The Obelisk Gate"
        deadline = time.monotonic() + 5  # well inside the declared 30 s
        while (await client.get(f"{second.base}{at}")).json()["title"] != "The Obelisk Gate":
            assert time.monotonic() < deadline, "the other instance kept an outdated answer"
            await asyncio.sleep(0.05)


async def test_the_documented_bookshop_calls_answer_as_the_docs_say(
    database_url: str, tmp_path: Path
) -> None:
    page = (ROOT / "docs" / "caching.md").read_text(encoding="utf-8")
    shown = page.split("## Try it on the bookshop")[1]
    declared = shown.split("Add `")[1].split("`")[0]
    block = shown.split("```sh\n")[1].split("```")[0]
    expected = [line[2:] for line in block.splitlines() if line.startswith("# ")]
    spec = tmp_path / "api-spec.md"
    text = BOOKSHOP.read_text(encoding="utf-8")
    marker = "      operationId: getAuthor\n"
    assert marker in text
    spec.write_text(text.replace(marker, f"{marker}      {declared}\n"), encoding="utf-8")
    async with served(load_model(spec), database_url) as shop:
        assert (await shop.post("/authors", json={"name": "Octavia E. Butler"})).status_code == 201
        answers = [await shop.get("/authors/1"), await shop.get("/authors/1")]
    said = []
    for answer in answers:
        said.append(f"cache-control: {answer.headers['cache-control']}")
        if "age" in answer.headers:
            said.append(f"age: {answer.headers['age']}")
    assert said == expected


async def test_an_answer_that_depends_on_the_caller_is_kept_for_that_caller_only(
    database_url: str, tmp_path: Path
) -> None:
    spec = tmp_path / "api-spec.md"
    budget = "      x-backsmith: {slo: {p95: 20ms, p99: 50ms}}\n"  # getBook's, in the bookshop
    text = BOOKSHOP.read_text(encoding="utf-8")
    assert text.count(budget) == 1
    text = text.replace(budget, "      x-backsmith: {slo: {p95: 20ms, p99: 50ms}, cache: 30s}\n")
    spec.write_text(text, encoding="utf-8")
    secret = "caching-test-secret-of-32-bytes-long!"
    async with served(load_model(spec), database_url, jwt_secret=secret) as shop:
        author = (await shop.post("/authors", json={"name": "Ursula K. Le Guin"})).json()
        made = await shop.post(
            "/books",
            json={
                "title": "Tehanu",
                "isbn": "9780553383041",
                "price_cents": 1,
                "author_id": author["id"],
            },
        )
        at = f"/books/{made.json()['slug']}"
        callers = []
        for email in ("ana@example.com", "bo@example.com"):
            customer = await shop.post("/customers", json={"email": email, "name": "x"})
            callers.append(bearer(secret, customer.json()["id"]))
        ana, bo = callers
        for caller in (ana, bo, {}):  # each keeps its own answer
            assert (await shop.get(at, headers=caller)).json()["wishlisted"] is False
        assert (await shop.post(f"{at}/wishlist", headers=ana)).status_code == 200
        seen = {}
        for name, caller in (("ana", ana), ("bo", bo), ("anonymous", {})):
            answer = await shop.get(at, headers=caller)
            seen[name] = (answer.json()["wishlisted"], answer.json()["wishlisted_count"])
            control = "private, max-age=30" if caller else "max-age=30"
            assert answer.headers.get_list("cache-control") == [control]
        assert seen == {"ana": (True, 1), "bo": (False, 1), "anonymous": (False, 1)}
        again = await shop.get(at, headers=bo)
        assert "age" in again.headers and again.json()["wishlisted"] is False


async def test_with_redis_gone_a_write_is_answered_and_the_age_still_bounds_a_read(
    database_url: str, redis_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = await start_app(load_model(CACHED), database_url, redis_url=redis_server.url)
    try:
        async with client_for(app) as client:
            at, _ = await book(client)
            assert (await client.get(at)).status_code == 200
            redis_server.stop()
            changed = await client.patch(at, json={"title": "Fledgling"})
            assert changed.status_code == 200  # nobody else hears of it; this process does
            assert (await client.get(at)).json()["title"] == "Fledgling"
    finally:
        await stop_app(app)
    assert "could not publish a cache invalidation" in caplog.text
