"""URLs in answers, on SQLite and PostgreSQL, with the corpus contracts that showed them wrong.

train-travel.yaml declares its list links `{type: string, format: uri}` (`links.self`,
`links.next`, `links.prev`) and a booking's own `links.self`: they are absolute, carry only
the parameters the operation declares, and a page that does not exist is left out (the
schema does not allow null). intellifi.nl answers its writes with `{resource: {id, url},
status}` and its lists with a `next_url`: the wrapped object carries the new row's key and
address, and `next_url` (no format) stays relative. The bookshop's Link header drops
parameters the contract does not declare.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import jwt
import pytest
from conftest import CORPUS, needs_shared, served, start_app, stop_app, write_file

from backsmith.api import keys, load_model
from backsmith.http.app import BacksmithApp
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

TRAIN_TRAVEL = CORPUS / "openapi" / "train-travel.yaml"
INTELLIFI = CORPUS / "openapi" / "apis-guru" / "intellifi.nl__default.yaml"
SECRET = "train-travel-test-secret-of-at-least-32-bytes"


def _bearer(scope: str) -> dict[str, str]:
    claims = {"sub": "traveller", "exp": int(time.time()) + 600, "scope": scope}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET)}"}


READ, WRITE = _bearer("read"), _bearer("write")


# Operations are served under the path of the contract's first server (a mock server's).
BASE = "/rest/Train+Travel+API/1.0.0"


@pytest.fixture(scope="module")
def train_travel() -> Model:
    model = load_model(TRAIN_TRAVEL)
    assert model.base_path.path == BASE
    return model


@pytest.fixture(scope="module")
def intellifi() -> Model:
    model = load_model(INTELLIFI)
    assert model.base_path.path == "/api"  # {protocol}://{customer}.intellifi.{tld}/api
    return model


@pytest.fixture
async def trains(train_travel: Model, database_url: str) -> AsyncIterator[BacksmithApp]:
    app = await start_app(train_travel, database_url, jwt_secret=SECRET)
    try:
        yield app
    finally:
        await stop_app(app)


def _client(app: BacksmithApp, base: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base)


async def _book(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    created = await client.post("/bookings", json={"passenger_name": name}, headers=WRITE)
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


# ------------------------------------------------------------------ train-travel links
@needs_shared
async def test_list_links_are_absolute_declared_only_and_absent_past_the_ends(
    trains: BacksmithApp,
) -> None:
    async with _client(trains, f"https://api.example.com{BASE}") as client:
        made = [await _book(client, f"Passenger {n}") for n in range(5)]

        first = await client.get("/bookings?limit=2&utm_source=mail&page=1", headers=READ)
        assert first.status_code == 200, first.text
        links = first.json()["links"]
        # The parameter the contract does not declare is not handed on; the rest as sent.
        assert links == {
            "self": f"https://api.example.com{BASE}/bookings?limit=2&page=1",
            "next": f"https://api.example.com{BASE}/bookings?limit=2&page=2",
        }
        assert first.headers["link"] == f'<{links["next"]}>; rel="next"'

        seen = [b["id"] for b in first.json()["data"]]
        page = first
        while "next" in page.json()["links"]:
            page = await client.get(page.json()["links"]["next"], headers=READ)
            assert page.status_code == 200, page.text
            seen += [b["id"] for b in page.json()["data"]]
        assert sorted(seen) == sorted(b["id"] for b in made) and len(seen) == 5

        last = page.json()["links"]
        assert last == {  # no next page: left out, as `type: string` cannot be null
            "self": f"https://api.example.com{BASE}/bookings?limit=2&page=3",
            "prev": f"https://api.example.com{BASE}/bookings?limit=2&page=2",
        }
        assert "link" not in page.headers


@needs_shared
async def test_a_booking_links_to_itself_by_the_host_it_was_asked_on(
    trains: BacksmithApp,
) -> None:
    async with _client(trains, f"http://trains.test:8080{BASE}") as client:
        booking = await _book(client, "Ada")
        own = f"http://trains.test:8080{BASE}/bookings/{booking['id']}"
        assert booking["links"] == {"self": own}
        read = await client.get(f"/bookings/{booking['id']}", headers=READ)
        assert read.status_code == 200 and read.json()["links"] == {"self": own}
        assert (await client.get(own, headers=READ)).json()["passenger_name"] == "Ada"

        # A Host header that is no host name is not echoed: the server's own address is.
        forged = await client.get(
            f"/bookings/{booking['id']}", headers={**READ, "Host": "evil.test/<script>"}
        )
        assert forged.status_code == 200, forged.text
        assert forged.json()["links"]["self"].startswith(f"http://trains.test:8080{BASE}/bookings/")


# ------------------------------------------------------------------ intellifi writes
async def _api_key(contract: str, database_url: str) -> dict[str, str]:
    def create() -> str:
        made = keys("create", contract, subject="svc", database_url=database_url)
        assert isinstance(made, str)
        return made

    return {"X-Api-Key": await anyio.to_thread.run_sync(create)}


@needs_shared
async def test_writes_that_wrap_the_row_answer_its_key_and_address(
    intellifi: Model, database_url: str
) -> None:
    async with served(intellifi, database_url) as client:
        key = await _api_key(str(INTELLIFI), database_url)
        created = await client.post("/api/locations", json={"label": "Hall"}, headers=key)
        assert created.status_code == 201, created.text
        body = created.json()
        new_id = body["resource"]["id"]
        address = f"/api/locations/{new_id}"  # under its server's path
        # {resource: {id, url}, status}: the key and address from the row; the status
        # (an integer whose example says 200 for every write) is the one answered.
        assert body == {"resource": {"id": new_id, "url": address}, "status": 201}
        assert created.headers["location"] == address

        read = await client.get(address, headers=key)
        assert read.status_code == 200, read.text
        assert read.json()["label"] == "Hall" and read.json()["url"] == address

        replaced = await client.put(address, json={"label": "Great Hall"}, headers=key)
        assert replaced.status_code == 200, replaced.text
        assert replaced.json() == {"resource": {"id": new_id, "url": address}, "status": 200}
        assert (await client.get(address, headers=key)).json()["label"] == "Great Hall"

        deleted = await client.delete(address, headers=key)
        assert deleted.status_code == 200, deleted.text
        assert deleted.json() == {"resource": {"id": new_id, "url": address}, "status": 200}
        assert (await client.get(address, headers=key)).status_code == 404


@needs_shared
async def test_a_date_time_bound_is_not_taken_for_a_cursor(
    intellifi: Model, database_url: str
) -> None:
    """`?after=` is a time bound (`format: date-time`): no cursor fits it, so the list has
    no next page to link to, and its `next_url` (a `type: string`) is left out."""
    async with served(intellifi, database_url) as client:
        key = await _api_key(str(INTELLIFI), database_url)
        for n in range(3):
            rule = {"label": f"rule {n}", "type": "allow", "enabled": True}
            made = await client.post("/api/locationrules", json=rule, headers=key)
            assert made.status_code == 200, made.text

        listed = await client.get(
            "/api/locationrules",
            params={"limit": 2, "after": "2016-01-27T08:38:55.255Z"},
            headers=key,
        )
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert len(body["results"]) == 2 and body["count"] == 3
        assert "next_url" not in body and "link" not in listed.headers
        for rule in body["results"]:  # each item's `url`: a readOnly column nothing stores
            assert rule["url"] == f"/api/locationrules/{rule['id']}"


# ------------------------------------------------------------------ the general rules
_PAGES = """\
openapi: 3.1.0
info: {title: pages, version: '1'}
paths:
  /notes:
    get:
      parameters:
        - {name: offset, in: query, schema: {type: integer, minimum: 0}}
        - {name: limit, in: query, schema: {type: integer, minimum: 1}}
        - {name: kind, in: query, schema: {type: string}}
      responses:
        '200':
          description: notes
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: {$ref: '#/components/schemas/Note'}}
                  next_url: {type: [string, 'null']}
                  previous: {type: string, format: uri}
                  _links:
                    type: object
                    properties:
                      self: {type: object, properties: {href: {type: string, format: uri}}}
    post:
      requestBody:
        content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}
      responses:
        '201':
          description: made
          content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}
  /notes/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        '200':
          description: a note
          content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}
components:
  schemas:
    Note:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        kind: {type: string}
        href: {type: string, format: uri-reference, readOnly: true}
"""


async def test_links_follow_their_format_and_nullability(database_url: str, tmp_path: Path) -> None:
    model = load_model(write_file(tmp_path, "pages.yaml", _PAGES))
    async with served(model, database_url) as client:
        notes = []
        for kind in ("a", "b", "a", "a"):
            made = await client.post("/notes", json={"kind": kind})
            assert made.status_code == 201, made.text
            assert made.json()["href"] == made.headers["location"] == f"/notes/{made.json()['id']}"
            notes.append(made.json())

        first = (await client.get("/notes?limit=2&kind=a&ref=x")).json()
        assert first["next_url"] == "/notes?limit=2&kind=a&offset=2"  # no format: relative
        assert first["_links"] == {"self": {"href": "http://test/notes?limit=2&kind=a"}}
        assert "previous" not in first  # no earlier page, and `previous` cannot be null
        assert [n["href"] for n in first["items"]] == [f"/notes/{n['id']}" for n in first["items"]]

        second = (await client.get(first["next_url"])).json()
        assert second["next_url"] is None  # the schema allows null: the last page says so
        assert second["previous"] == "http://test/notes?limit=2&kind=a&offset=0"
        seen = {n["id"] for n in first["items"] + second["items"]}
        assert seen == {n["id"] for n in notes if n["kind"] == "a"}


# ------------------------------------------------------------------ Link header
async def test_the_link_header_hands_on_declared_parameters_only(
    bookshop: httpx.AsyncClient,
) -> None:
    for _ in range(3):
        made = await bookshop.post("/authors", json={"name": "Same"})
        assert made.status_code == 201, made.text
    first = await bookshop.get("/authors?name=Same&fbclid=x&limit=2&name=Same")
    assert first.status_code == 200 and len(first.json()) == 2
    link = first.headers["link"]
    assert link.startswith("</authors?name=Same&limit=2&name=Same&cursor=") and "fbclid" not in link
