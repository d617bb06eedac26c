"""Path keys on the corpus contracts that showed them answered wrongly, on SQLite and PostgreSQL.

- presalytics.io story: `/{id}/events` wrote the story's id into the event's own key (the
  second create was a 409, the list held one row), and listed 200 [] under any story.
- intellifi.nl: `/subscriptions/{id}/events` answered 200 [] under a deleted subscription.
- readme.io: `/changelogs/{slug}` and `/version/{versionId}` addressed a made-up integer `id`
  the schema never shows, so every read, update and delete was a 422.
- petstore: `POST /pet` with `"id": 10` stored the pet under another id.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import httpx
import jwt
import pytest
import sqlalchemy as sa
from conftest import (
    CORPUS,
    client_for,
    mended_intellifi,
    needs_shared,
    served,
    start_app,
    stop_app,
)

from backsmith.api import load_model
from backsmith.cli import main
from backsmith.http.app import BacksmithApp
from backsmith.model.types import Access, Model

pytestmark = [pytest.mark.anyio, needs_shared]

APIS = CORPUS / "openapi" / "apis-guru"
SECRET = "a-corpus-test-secret-of-32-bytes-or-more"
# These contracts' servers name base paths (/story, /api, /api/v1, /api/v3); the paths
# below are what is tested, so they are served at the root (BACKSMITH_BASE_PATH="").
ROOT = ""


def bearer(**claims: Any) -> dict[str, str]:
    token = jwt.encode({"sub": "u1", "exp": int(time.time()) + 600, **claims}, SECRET)
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def app_and_client(
    model: Model, database_url: str
) -> AsyncIterator[tuple[BacksmithApp, httpx.AsyncClient]]:
    app = await start_app(model, database_url, jwt_secret=SECRET, base_path=ROOT)
    try:
        async with client_for(app) as client:
            yield app, client
    finally:
        await stop_app(app)


async def write_rows(app: BacksmithApp, table: str, *rows: dict[str, Any]) -> None:
    """Rows the contract has no operation to make (presalytics creates stories by upload)."""
    async with app.engine.begin() as conn:
        await conn.execute(sa.insert(app.metadata.tables[table]), list(rows))


async def delete_row(app: BacksmithApp, table: str, key: Any) -> None:
    stored = app.metadata.tables[table]
    async with app.engine.begin() as conn:
        await conn.execute(sa.delete(stored).where(stored.c.id == key))


def not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == "No parent item matches path parameter 'id'."


# ---------------------------------------------------------------- presalytics
async def test_events_belong_to_the_story_their_path_names(database_url: str) -> None:
    model = load_model(APIS / "presalytics.io__story.yaml")
    events = model.resources["events"]
    assert [(r.columns, r.target) for r in events.relations] == [(("story_id",), "stories")]
    assert events.field("story_id").hidden  # type: ignore[union-attr]
    caller = bearer()
    async with app_and_client(model, database_url) as (app, client):
        story, other = uuid.uuid4(), uuid.uuid4()
        await write_rows(app, "stories", {"id": story, "title": "Q3"}, {"id": other, "title": "Q4"})
        first = await client.post(f"/{story}/events", json={"name": "opened"}, headers=caller)
        second = await client.post(f"/{story}/events", json={"name": "closed"}, headers=caller)
        assert (first.status_code, second.status_code) == (200, 200), second.text
        made = [first.json(), second.json()]
        assert str(story) not in {e["id"] for e in made}  # the story's id is not the event's
        assert len({e["id"] for e in made}) == 2
        listed = await client.get(f"/{story}/events", headers=caller)
        assert sorted(e["name"] for e in listed.json()) == ["closed", "opened"]
        assert (await client.get(f"/{other}/events", headers=caller)).json() == []

        nobody = uuid.uuid4()
        not_found(await client.get(f"/{nobody}/events", headers=caller))
        not_found(await client.post(f"/{nobody}/events", json={"name": "x"}, headers=caller))
        await delete_row(app, "stories", other)
        not_found(await client.get(f"/{other}/events", headers=caller))
        assert len((await client.get(f"/{story}/events", headers=caller)).json()) == 2


# ------------------------------------------------------------------ intellifi
async def _api_key(contract: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    argv = ["keys", "create", str(contract), "--subject", "app", "--database-url", database_url]
    assert await anyio.to_thread.run_sync(main, argv) == 0
    return capsys.readouterr().out.splitlines()[0]


async def test_events_of_a_deleted_subscription_are_a_404(
    database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # As published the contract is refused (its Blob requires a property it never
    # declares); this test is about its subscriptions, so it serves it mended.
    contract = mended_intellifi(tmp_path)
    async with served(load_model(contract), database_url, base_path=ROOT) as client:
        headers = {"X-Api-Key": await _api_key(contract, database_url, capsys)}
        body = {"topic_filter": "items/created", "description": "Item events"}
        made = await client.post("/subscriptions", json=body, headers=headers)
        assert made.status_code == 201, made.text
        path = made.headers["location"]
        listed = await client.get(f"{path}/events", headers=headers)
        assert listed.status_code == 200, listed.text
        assert listed.json()["results"] == []
        assert (await client.delete(path, headers=headers)).status_code in (200, 204)
        not_found(await client.get(f"{path}/events", headers=headers))


# ------------------------------------------------------------------- readme.io
def without_security(model: Model) -> Model:
    """readme.io secures every operation with http basic, which needs built-in accounts this
    contract does not declare; the paths are what is tested here, open to anyone."""
    operations = tuple(replace(op, access=Access(public=True)) for op in model.operations)
    return replace(model, operations=operations, security_gaps=())


async def test_changelogs_are_addressed_by_a_slug_made_from_their_title(database_url: str) -> None:
    model = without_security(load_model(APIS / "readme.io__default.json"))
    slug = model.resources["changelogs"].field("slug")
    assert slug is not None and slug.unique and slug.derived_from == "title"
    async with served(model, database_url, base_path=ROOT) as client:
        made = await client.post("/changelogs", json={"title": "Hello, world!", "body": "First"})
        assert made.status_code == 201, made.text
        assert made.headers["location"] == "/changelogs/hello-world"
        read = await client.get("/changelogs/hello-world")
        assert read.status_code == 200, read.text
        assert (read.json()["title"], read.json()["slug"]) == ("Hello, world!", "hello-world")
        again = await client.post("/changelogs", json={"title": "Hello world", "body": "Again"})
        assert again.headers["location"] == "/changelogs/hello-world-2"

        changed = await client.put("/changelogs/hello-world", json={"title": "Hi", "body": "B"})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["title"], changed.json()["slug"]) == ("Hi", "hello-world")
        assert (await client.delete("/changelogs/hello-world")).status_code == 204
        assert (await client.get("/changelogs/hello-world")).status_code == 404
        assert (await client.get("/changelogs/hello-world-2")).json()["body"] == "Again"


async def test_versions_are_addressed_by_their_version(database_url: str) -> None:
    model = without_security(load_model(APIS / "readme.io__default.json"))
    async with served(model, database_url, base_path=ROOT) as client:
        made = await client.post("/version", json={"version": "1.0", "from": "0.9"})
        assert made.status_code == 200, made.text
        read = await client.get("/version/1.0")
        assert read.status_code == 200, read.text
        assert read.json()["from"] == "0.9"
        changed = await client.put("/version/1.0", json={"version": "1.0", "from": "0.8"})
        assert changed.status_code == 200, changed.text
        assert (await client.get("/version/1.0")).json()["from"] == "0.8"
        duplicate = await client.post("/version", json={"version": "1.0", "from": "0.1"})
        # The contract's 400 is "That version already exists in the project": its status.
        assert duplicate.status_code == 400, duplicate.text
        assert duplicate.json()["code"] == "BSM510", duplicate.text
        assert (await client.get("/version/2.0")).status_code == 404
        assert (await client.delete("/version/1.0")).status_code == 200
        assert (await client.get("/version/1.0")).status_code == 404


# -------------------------------------------------------------------- petstore
async def test_a_pet_is_stored_under_the_id_the_client_sends(database_url: str) -> None:
    model = load_model(CORPUS / "openapi" / "petstore3.yaml")
    caller = bearer(scope="write:pets read:pets")
    doggie = {"id": 10, "name": "doggie", "photoUrls": ["https://example.com/d.png"]}
    async with served(model, database_url, jwt_secret=SECRET, base_path=ROOT) as client:
        made = await client.post("/pet", json=doggie, headers=caller)
        assert made.status_code == 200, made.text
        assert made.json()["id"] == 10
        read = await client.get("/pet/10", headers=caller)
        assert (read.status_code, read.json()["name"]) == (200, "doggie")
        numbered = await client.post("/pet", json={"name": "cat", "photoUrls": []}, headers=caller)
        assert numbered.json()["id"] == 11  # the numbering continues past the chosen id
        taken = await client.post("/pet", json={**doggie, "name": "again"}, headers=caller)
        # POST /pet declares 400 and 422, no 409: a taken id is answered with the 422 it has.
        assert taken.status_code == 422, taken.text
        assert taken.json()["code"] == "BSM510", taken.text
        assert (await client.get("/pet/10", headers=caller)).json()["name"] == "doggie"
        renamed = await client.put("/pet", json={**doggie, "name": "rex"}, headers=caller)
        assert (renamed.status_code, renamed.json()["id"]) == (200, 10)
