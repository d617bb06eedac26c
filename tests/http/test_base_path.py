"""Base paths from `servers`: a contract whose server URL carries a path is served under it.

Clients generated from a contract call the first server's URL joined with each path, so
`https://api.example.com/api` puts `/books` at `/api/books`. `BACKSMITH_BASE_PATH`
overrides it (empty: none); the operational endpoints stay where they are configured.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import client_for, served, start_app, stop_app
from conftest import write_file as write

from backsmith import api
from backsmith.api import load_model, serving_line
from backsmith.cli import main
from backsmith.http.app import create_app
from backsmith.model.types import Model
from backsmith.settings import load_settings

pytestmark = pytest.mark.anyio

BOOKS = """\
openapi: 3.1.0
info: {title: Books, version: "1"}
servers:
  - url: https://api.example.com/api
  - url: https://staging.example.com/v2
paths:
  /books:
    get:
      operationId: listBooks
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
        - {name: cursor, in: query, schema: {type: string}}
      responses:
        "200":
          description: A page of books.
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: {$ref: "#/components/schemas/Book"}}
                  next_cursor: {type: [string, "null"]}
    post:
      operationId: createBook
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Book"}
      responses:
        "201":
          description: Created.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Book"}
  /books/{id}:
    get:
      operationId: getBook
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: One book.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Book"}
        "404": {description: No such book.}
components:
  schemas:
    Book:
      type: object
      required: [title]
      properties:
        id: {type: integer, readOnly: true}
        title: {type: string}
"""


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> Model:
    return load_model(write(tmp_path_factory.mktemp("books"), "api.yaml", BOOKS))


@pytest.fixture
async def client(books: Model, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with served(books, database_url) as client:
        yield client


async def create(client: httpx.AsyncClient, prefix: str, title: str) -> httpx.Response:
    return await client.post(f"{prefix}/books", json={"title": title})


async def test_operations_are_served_under_the_first_servers_path(
    client: httpx.AsyncClient,
) -> None:
    created = await create(client, "/api", "Kindred")
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    assert location == f"/api/books/{created.json()['id']}"
    read = await client.get(location)
    assert read.status_code == 200 and read.json()["title"] == "Kindred"
    listed = await client.get("/api/books")
    assert [book["title"] for book in listed.json()["items"]] == ["Kindred"]


async def test_a_path_without_the_base_path_is_404(client: httpx.AsyncClient) -> None:
    await create(client, "/api", "Kindred")
    for response in (
        await client.get("/books"),
        await client.get("/books/1"),
        await create(client, "", "Dawn"),
        await client.get("/v2/books"),  # the second server's path is not served
    ):
        assert response.status_code == 404, response.request.url
        assert response.headers["content-type"] == "application/problem+json"
    assert len((await client.get("/api/books")).json()["items"]) == 1  # nothing was created


async def test_next_links_carry_the_base_path(client: httpx.AsyncClient) -> None:
    for title in ("Kindred", "Dawn", "Imago"):
        assert (await create(client, "/api", title)).status_code == 201
    first = await client.get("/api/books", params={"limit": 2})
    assert first.status_code == 200
    link = first.headers["link"]
    assert link.endswith('>; rel="next"')
    url = urlsplit(link[1 : link.index(">")])
    assert url.path == "/api/books"
    second = await client.get(f"{url.path}?{url.query}")
    assert [book["title"] for book in second.json()["items"]] == ["Imago"]


async def test_operational_endpoints_stay_where_they_are_configured(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/healthz")).json() == {"status": "pass"}
    assert (await client.get("/readyz")).json()["status"] == "pass"
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "Books"
    assert (await client.get("/docs")).status_code == 200
    for moved in ("/api/healthz", "/api/readyz", "/api/openapi.json", "/api/docs"):
        assert (await client.get(moved)).status_code == 404, moved


async def test_an_ops_prefix_is_kept_beside_a_base_path(books: Model, database_url: str) -> None:
    async with served(books, database_url, ops_prefix="/_ops") as client:
        assert (await client.get("/_ops/healthz")).status_code == 200
        assert (await client.get("/healthz")).status_code == 404
        assert (await create(client, "/api", "Kindred")).status_code == 201


@pytest.mark.parametrize(("setting", "prefix"), [("/v9", "/v9"), ("/v9/", "/v9"), ("", "")])
async def test_the_setting_overrides_the_contracts_base_path(
    books: Model, database_url: str, setting: str, prefix: str
) -> None:
    async with served(books, database_url, base_path=setting) as client:
        created = await create(client, prefix, "Kindred")
        assert created.status_code == 201, created.text
        assert created.headers["location"] == f"{prefix}/books/{created.json()['id']}"
        assert (await client.get(created.headers["location"])).status_code == 200
        assert (await client.get("/api/books")).status_code == 404
        assert (await client.get("/healthz")).status_code == 200


async def test_an_empty_variable_means_no_base_path(books: Model, database_url: str) -> None:
    # BACKSMITH_BASE_PATH="" is a value (none), not the absence of one (the contract's).
    settings = load_settings(books.options, environ={"BACKSMITH_BASE_PATH": ""})
    assert settings.base_path == ""
    assert load_settings(books.options, environ={}).base_path is None
    app = await start_app(books, database_url, base_path=settings.base_path)
    try:
        async with client_for(app) as client:
            assert (await create(client, "", "Kindred")).headers["location"] == "/books/1"
            assert (await client.get("/api/books")).status_code == 404
    finally:
        await stop_app(app)


# ------------------------------------------------------------ reading servers

VARIABLES = """\
openapi: 3.0.3
info: {title: Notes, version: "1"}
servers:
  - url: "{scheme}://{host}/{basePath}/"
    variables:
      scheme: {default: https, enum: [https, http]}
      host: {default: notes.example.com}
      basePath: {default: v1}
paths:
  /notes:
    post:
      operationId: createNote
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Note"}
      responses:
        "201":
          description: Created.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Note"}
  /notes/{id}:
    get:
      operationId: getNote
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: One note.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Note"}
  /status:
    servers:
      - url: /internal
    get:
      operationId: getStatus
      responses:
        "200": {description: ok}
components:
  schemas:
    Note:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
"""


async def test_server_variables_and_a_path_items_own_servers(
    tmp_path: Path, database_url: str
) -> None:
    model = load_model(write(tmp_path, "api.yaml", VARIABLES))
    assert model.base_path.path == "/v1"
    assert model.warnings == ()
    by_id = {op.operation_id: op.base_path for op in model.operations}
    assert by_id == {"createNote": "/v1", "getNote": "/v1", "getStatus": "/internal"}
    async with served(model, database_url) as client:
        created = await client.post("/v1/notes", json={"text": "hi"})
        assert created.status_code == 201, created.text
        assert created.headers["location"] == f"/v1/notes/{created.json()['id']}"
        status = await client.get("/internal/status")
        assert status.status_code == 501  # served there: a custom operation, named
        assert "getStatus" in status.json()["detail"]
        assert (await client.get("/v1/status")).status_code == 404


@pytest.mark.parametrize(
    ("servers", "expected"),
    [
        ("", ""),
        ("servers: [{url: /}]", ""),
        ("servers: [{url: /api/v31}]", "/api/v31"),
        ("servers: [{url: 'https://api.example.com'}]", ""),
        ("servers: [{url: 'http://localhost:8080/v1/'}]", "/v1"),
        ("servers: [{url: 'https://h.example.com/a%20b?x=1'}]", "/a b"),
        ("servers: [{url: v2}]", "/v2"),
    ],
)
def test_the_base_path_of_a_server_url(tmp_path: Path, servers: str, expected: str) -> None:
    text = BOOKS.replace(
        "servers:\n  - url: https://api.example.com/api\n  - url: https://staging.example.com/v2\n",
        servers + "\n",
    )
    model = load_model(write(tmp_path, "api.yaml", text))
    assert model.base_path.path == expected
    assert model.warnings == ()


def test_several_server_paths_are_a_warning_naming_the_one_used(
    books: Model, capsys: pytest.CaptureFixture[str]
) -> None:
    (warning,) = books.warnings
    assert ":4: warning at #/servers: the servers have different paths: " in warning
    assert "operations are served under /api, the first server's" in warning
    assert "BACKSMITH_BASE_PATH" in warning
    assert main(["check", books.path]) == 1  # lint: its writes ask for no credentials
    out, err = capsys.readouterr()
    assert warning in err.splitlines()
    assert "1 warning" in out


def test_a_variable_without_a_default_in_the_path_is_a_warning(tmp_path: Path) -> None:
    text = BOOKS.replace("https://api.example.com/api", "https://api.example.com/{stage}")
    model = load_model(write(tmp_path, "api.yaml", text))
    assert model.base_path.path == ""
    assert any("{stage}" in w and "at #/servers/0/url" in w for w in model.warnings)


def test_model_and_the_start_up_line_print_the_base_path(
    books: Model, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["model", books.path]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith(", served under /api (servers[0]: https://api.example.com/api)")
    assert main(["model", "--json", books.path]) == 0
    assert '"base_path": "/api"' in capsys.readouterr().out
    settings = load_settings(books.options, environ={})
    line = serving_line(books.path, settings, books)
    assert f"serving {books.path} on http://127.0.0.1:8000/api — docs at " in line
    assert line.endswith("http://127.0.0.1:8000/docs")
    overridden = load_settings(books.options, environ={"BACKSMITH_BASE_PATH": ""})
    assert " on http://127.0.0.1:8000 — " in serving_line(books.path, overridden, books)


def test_config_shows_where_the_base_path_comes_from(books: Model) -> None:
    def base_path(environ: dict[str, str]) -> tuple[Any, str]:
        resolved = api.config(books.path, environ=environ)
        found = next(r for r in resolved if r.setting.name == "base_path")
        return found.value, found.source

    assert base_path({}) == ("/api", "contract")
    assert base_path({"BACKSMITH_BASE_PATH": "/v9"}) == ("/v9", "environment")


def test_the_start_up_log_warns_and_names_the_base_path(
    books: Model, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="backsmith"):
        create_app(books, load_settings(books.options, environ={}))
    messages = [r.getMessage() for r in caplog.records]
    assert "operations served under /api (servers[0]: https://api.example.com/api)" in messages
    assert any("the servers have different paths" in m for m in messages)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="backsmith"):
        create_app(books, load_settings(books.options, environ={"BACKSMITH_BASE_PATH": "/v9"}))
    messages = [r.getMessage() for r in caplog.records]
    assert "operations served under /v9 (BACKSMITH_BASE_PATH)" in messages
    assert not any("different paths" in m for m in messages)  # the setting chose


@pytest.mark.parametrize("value", ["api", "/api?x=1", "/{stage}", "/a b"])
def test_a_base_path_that_is_no_path_is_refused_in_one_line(
    books: Model,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    value: str,
) -> None:
    monkeypatch.setenv("BACKSMITH_BASE_PATH", value)
    assert main(["config", books.path]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"BACKSMITH_BASE_PATH={value}: base_path must be" in err
