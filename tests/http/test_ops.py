"""Operational endpoints: liveness, readiness, the served contract, the docs page and its assets."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest
import swagger_ui_bundle
from conftest import BOOKSHOP, client_for, served, start_app, stop_app

from backsmith.api import load_model
from backsmith.http.app import create_app
from backsmith.model.types import Model
from backsmith.settings import load_settings

pytestmark = pytest.mark.anyio

HEALTH = "application/health+json"
PROBLEM = "application/problem+json"
STATIC_DIR = Path(swagger_ui_bundle.swagger_ui_path)
ASSET_TYPES = {".js": "text/javascript", ".css": "text/css"}

TINY_CONTRACT = """\
openapi: 3.1.0
info: {title: Tiny, version: 1.0.0}
paths:
  /healthz:
    get:
      operationId: contractHealth
      responses:
        '200':
          description: The service's own health report.
          content:
            application/json:
              schema: {type: object, properties: {ok: {type: boolean}}}
  /notes:
    get:
      operationId: listNotes
      responses:
        '200':
          description: Notes.
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Note'}}
components:
  schemas:
    Note:
      type: object
      required: [id, text]
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
"""


@pytest.fixture
async def prefixed(bookshop_model: Model, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The bookshop with its operational endpoints under /_ops."""
    async with served(bookshop_model, database_url, ops_prefix="/_ops") as client:
        yield client


@pytest.fixture
async def undocumented(
    bookshop_model: Model, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The bookshop with /docs and /openapi.json switched off."""
    async with served(bookshop_model, database_url, docs=False) as client:
        yield client


def assert_not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, f"{response.request.url}: {response.status_code}"
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 404


def assets_of(page: str) -> list[str]:
    """The stylesheet and script URLs a docs page loads."""
    return re.findall(r'<link[^>]+href="([^"]+)"', page) + re.findall(
        r'<script[^>]+src="([^"]+)"', page
    )


# ------------------------------------------------------------------ health
async def test_healthz_passes(bookshop: httpx.AsyncClient) -> None:
    response = await bookshop.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == HEALTH
    assert response.json() == {"status": "pass"}
    head = await bookshop.head("/healthz")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(response.content)


async def test_healthz_answers_only_get(bookshop: httpx.AsyncClient) -> None:
    response = await bookshop.post("/healthz")
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "HEAD"}


async def test_readyz_passes_when_the_database_is_reachable(bookshop: httpx.AsyncClient) -> None:
    response = await bookshop.get("/readyz")
    assert response.status_code == 200
    assert response.headers["content-type"] == HEALTH
    body = response.json()
    assert (body["status"], body["revision"]) == ("pass", None)  # no migrations here
    assert body["checks"]["database"][0]["status"] == "pass"  # see test_readiness.py


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("sqlite:////nonexistent-backsmith-dir/shop.db", id="sqlite"),
        pytest.param("postgresql://postgres@127.0.0.1:1/shop", id="postgresql"),
    ],
)
async def test_readyz_fails_when_the_database_is_unreachable(
    bookshop_model: Model, url: str
) -> None:
    app = create_app(bookshop_model, load_settings({}, environ={}, database_url=url))
    try:
        async with client_for(app) as client:
            ready = await client.get("/readyz")
            alive = await client.get("/healthz")
    finally:
        await app.shutdown()
        # aiosqlite stops the thread of a failed connect without waiting for it; let it finish
        # while this test's event loop is still open.
        await anyio.sleep(0.1)
    assert ready.status_code == 503
    assert ready.headers["content-type"] == HEALTH
    assert ready.headers["retry-after"] == "1"
    body = ready.json()
    assert body["status"] == "fail"
    assert url.rsplit("/", 1)[0] not in ready.text  # no connection details
    # Liveness does not depend on the database.
    assert alive.status_code == 200 and alive.json() == {"status": "pass"}


# ------------------------------------------------------------ contract, docs
async def test_openapi_json_is_the_contract(bookshop: httpx.AsyncClient) -> None:
    response = await bookshop.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == load_model(BOOKSHOP).document
    assert response.json()["info"]["title"] == "Bookshop API"


async def test_docs_page_loads_swagger_ui_from_docs_static(bookshop: httpx.AsyncClient) -> None:
    page = await bookshop.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<title>Bookshop API</title>" in page.text
    assert 'url: "/openapi.json"' in page.text
    assets = assets_of(page.text)
    assert sorted(assets) == ["/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css"]
    for asset in assets:
        response = await bookshop.get(asset)
        name = asset.rsplit("/", 1)[1]
        assert response.status_code == 200, asset
        assert response.headers["content-type"] == ASSET_TYPES[Path(name).suffix]
        assert response.content == (STATIC_DIR / name).read_bytes()
        assert "max-age" in response.headers["cache-control"]


async def test_docs_static_serves_other_bundle_assets(bookshop: httpx.AsyncClient) -> None:
    response = await bookshop.get("/docs/static/favicon-32x32.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == (STATIC_DIR / "favicon-32x32.png").read_bytes()


@pytest.mark.parametrize(
    "name",
    [
        "..%2f..%2fsecret",
        "..%2f..%2f..%2fpyproject.toml",
        "..%2fswagger-ui-4.15.5%2fswagger-ui.css",
        "%2e%2e",
        "%2e%2e%2fswagger-ui.css",
        "%2fetc%2fpasswd",
        "..%5c..%5csecret.js",
        ".hidden.js",
        "nope.js",
        "nope.css",
        "index.html",  # in the bundle, but not an asset the page loads
        "swagger-ui-bundle.js.map",
        "swagger-ui.css%00.js",
    ],
)
async def test_docs_static_refuses_traversal_and_unknown_files(
    bookshop: httpx.AsyncClient, name: str
) -> None:
    response = await bookshop.get(f"/docs/static/{name}")
    assert_not_found(response)
    assert "swagger" not in response.headers["content-type"]


async def test_ops_prefix_moves_every_endpoint(prefixed: httpx.AsyncClient) -> None:
    health = await prefixed.get("/_ops/healthz")
    assert health.status_code == 200 and health.json() == {"status": "pass"}
    ready = await prefixed.get("/_ops/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "pass"
    spec = await prefixed.get("/_ops/openapi.json")
    assert spec.status_code == 200 and spec.json() == load_model(BOOKSHOP).document
    page = await prefixed.get("/_ops/docs")
    assert page.status_code == 200 and 'url: "/_ops/openapi.json"' in page.text
    assets = assets_of(page.text)
    assert assets and all(a.startswith("/_ops/docs/static/") for a in assets)
    for asset in assets:
        assert (await prefixed.get(asset)).status_code == 200, asset
    for old in (
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/docs",
        "/docs/static/swagger-ui.css",
    ):
        assert_not_found(await prefixed.get(old))
    # The contract's own operations stay where they are.
    assert (await prefixed.get("/authors")).status_code == 200


async def test_docs_off_removes_docs_and_contract(undocumented: httpx.AsyncClient) -> None:
    for path in (
        "/docs",
        "/openapi.json",
        "/docs/static/swagger-ui.css",
        "/docs/static/swagger-ui-bundle.js",
    ):
        assert_not_found(await undocumented.get(path))
    assert (await undocumented.get("/healthz")).json() == {"status": "pass"}
    assert (await undocumented.get("/readyz")).json()["status"] == "pass"


async def test_a_contract_path_wins_over_an_ops_endpoint(tmp_path: Path, database_url: str) -> None:
    contract = tmp_path / "tiny.yaml"
    contract.write_text(TINY_CONTRACT, encoding="utf-8")
    model = load_model(contract)
    app = await start_app(model, database_url)
    try:
        async with client_for(app) as client:
            health = await client.get("/healthz")
            ready = await client.get("/readyz")
            notes = await client.get("/notes")
            spec = await client.get("/openapi.json")
    finally:
        await stop_app(app)
    # GET /healthz is the contract's own operation: not CRUD, so 501 naming it.
    assert health.status_code == 501
    assert health.headers["content-type"] == PROBLEM
    assert "'contractHealth'" in health.json()["detail"]
    # The endpoints the contract does not declare are still served.
    assert ready.status_code == 200 and ready.headers["content-type"] == HEALTH
    assert notes.status_code == 200 and notes.json() == []
    assert spec.json() == model.document
