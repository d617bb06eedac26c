"""`/readyz`: every dependency checked at once, within its timeout, in the health+json shape,
and the reports docs/health.md shows, as written (budgets themselves: test_budgets.py).

Real servers throughout: SQLite and PostgreSQL, a Redis of the test's own, RabbitMQ and
NATS on their usual ports, and silent TCP listeners standing in for a server that accepts
a connection and never answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, client_for, served, start_app, stop_app, write_file

from backsmith.api import load_model
from backsmith.http.app import BacksmithApp
from backsmith.http.budgets import MIN_SAMPLES
from backsmith.model.types import Model
from backsmith.settings import SettingError, load_settings

pytestmark = pytest.mark.anyio

HEALTH = "application/health+json"
RABBITMQ = os.environ.get("BACKSMITH_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672/")
NATS = os.environ.get("BACKSMITH_TEST_NATS", "nats://127.0.0.1:4222")
PAGE = (ROOT / "docs" / "health.md").read_text(encoding="utf-8")

NOTES = """\
openapi: 3.1.0
info: {title: Notes, version: "1"}
x-backsmith: {ROOT}
paths:
  /notes:
    get:
      operationId: listNotes
      x-backsmith: {LIST}
      responses:
        "200":
          description: the notes
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Note"}}
    post:
      operationId: createNote
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Note"}
      responses:
        "201":
          description: made
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Note"}
components:
  schemas:
    Note:
      type: object
      required: [text]
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
"""


def notes(tmp_path: Path, root: str = "{}", listing: str = "{}") -> Path:
    """The notes contract with these root and listNotes `x-backsmith` objects."""
    text = NOTES.replace("{ROOT}", root).replace("{LIST}", listing)
    return write_file(tmp_path, "notes.yaml", text)


def notes_model(tmp_path: Path, root: str = "{}", listing: str = "{}") -> Model:
    return load_model(notes(tmp_path, root, listing))


async def ready(client: httpx.AsyncClient) -> tuple[httpx.Response, float]:
    """The /readyz answer and the seconds it took."""
    start = time.monotonic()
    answer = await client.get("/readyz")
    return answer, time.monotonic() - start


def only(answer: httpx.Response, name: str) -> dict[str, Any]:
    """The one entry of the check `name`."""
    (entry,) = answer.json()["checks"][name]
    assert entry["observedUnit"] == "ms" and isinstance(entry["observedValue"], int | float)
    return dict(entry)


def reachable(url: str) -> None:
    """Skip (fail in CI) when nothing listens at the broker `url`'s host and port."""
    host, port = re.match(r"\w+://(?:[^@/]*@)?([^:/]+):(\d+)", url).groups()  # type: ignore[union-attr]
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError as error:
        if os.environ.get("CI"):
            pytest.fail(f"a broker at {host}:{port} is required in CI: {error}")
        pytest.skip(f"no broker at {host}:{port}: {error}")


@pytest.fixture
async def silent() -> AsyncIterator[int]:
    """The port of a TCP listener that takes connections and never says a word."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await reader.read()  # until the client gives up

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on: bound here and never listened on, so it refuses
    connections, and no other test process can take it while this test counts on that."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def hold_every_connection(app: BacksmithApp) -> list[Any]:
    """Take every connection of the app's pool, as long transactions would."""
    pool, held = app.database.pool, []
    while True:
        # Below its size the pool opens one more, which a busy machine may take long to
        # do; at its size, 0.3 s without one says that no more is handed out.
        wait = 10.0 if pool.in_use < pool.size else 0.3
        try:
            held.append(await asyncio.wait_for(pool.acquire(), wait))
        except TimeoutError:
            return held


# ------------------------------------------------------------------ all pass
async def test_every_dependency_passes(
    tmp_path: Path, database_url: str, redis_server: Any
) -> None:
    for url in (RABBITMQ, NATS):
        reachable(url)
    model = notes_model(tmp_path, root="{events: true}")
    brokers = f"{RABBITMQ},{NATS}"
    async with served(model, database_url, redis_url=redis_server.url, events_url=brokers) as api:
        answer, _ = await ready(api)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == HEALTH
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["status"] == "pass" and body["revision"] is None, answer.text
    names = ["database", "redis", "broker:amqp://127.0.0.1:5672", "broker:nats://127.0.0.1:4222"]
    assert list(body["checks"]) == names
    for name in names:
        entry = only(answer, name)
        assert entry["status"] == "pass" and "output" not in entry
    assert only(answer, "database")["componentType"] == "datastore"
    assert "guest" not in answer.text  # the broker's user is no one's business


async def test_brokers_are_checked_only_where_this_process_relays(
    tmp_path: Path, database_url: str
) -> None:
    model = notes_model(tmp_path, root="{events: true}")
    async with served(model, database_url, events_url=RABBITMQ, relay=False) as api:
        answer, _ = await ready(api)
    assert list(answer.json()["checks"]) == ["database"]


# ------------------------------------------------------------------ database
@pytest.mark.parametrize(
    "url",
    [
        pytest.param("sqlite:////nonexistent-backsmith-dir/notes.db", id="sqlite"),
        pytest.param("postgresql://postgres@127.0.0.1:1/notes", id="postgresql"),
    ],
)
async def test_an_unreachable_database_fails_at_once(tmp_path: Path, url: str) -> None:
    model = notes_model(tmp_path)
    app = BacksmithApp(model, load_settings({}, environ={}, database_url=url))
    try:
        async with client_for(app) as client:
            answer, took = await ready(client)
    finally:
        await app.shutdown()
        await asyncio.sleep(0.1)  # aiosqlite's thread of the failed connect ends
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert took < 1  # refused at once: no wait for the timeout
    database = only(answer, "database")
    assert answer.json()["status"] == database["status"] == "fail"
    assert database["output"]  # why, in the driver's kind of error
    assert "127.0.0.1" not in answer.text and "nonexistent" not in answer.text


async def test_a_database_server_that_never_answers_is_failed_within_the_timeout(
    tmp_path: Path, silent: int
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{silent}/notes"
    settings = load_settings({}, environ={}, database_url=url, ready_timeout_seconds="0.5")
    app = BacksmithApp(notes_model(tmp_path), settings)
    try:
        async with client_for(app) as client:
            answer, took = await ready(client)
    finally:
        await app.shutdown()
    assert answer.status_code == 503
    assert 0.45 < took < 1.5
    database = only(answer, "database")
    assert database["observedValue"] == 500
    assert database["output"] == "no connection within 0.5 s: the database server does not answer"


async def test_an_exhausted_pool_is_answered_within_the_timeout(
    tmp_path: Path, database_url: str
) -> None:
    app = await start_app(notes_model(tmp_path), database_url, ready_timeout_seconds=0.5)
    pool = app.database.pool
    try:
        async with client_for(app) as client:
            assert (await ready(client))[0].status_code == 200
            held = await hold_every_connection(app)
            try:
                answer, took = await ready(client)
            finally:
                for raw in held:
                    pool.release(raw)
            again, _ = await ready(client)
    finally:
        await stop_app(app)
    assert answer.status_code == 503 and 0.45 < took < 1.5
    assert only(answer, "database")["output"] == (
        f"no connection within 0.5 s: the pool is exhausted, {len(held)} connections in use "
        "and 0 requests waiting for one"
    )
    assert again.status_code == 200  # given back: ready again


async def ready_with_every_connection_held(
    tmp_path: Path, database_url: str, **settings: object
) -> tuple[Any, float, int]:
    """`/readyz` of a notes app while every connection of its pool is taken: the answer,
    how long it took, and how many connections were held."""
    app = await start_app(notes_model(tmp_path), database_url, **settings)
    try:
        held = await hold_every_connection(app)
        try:
            async with client_for(app) as client:
                answer, took = await ready(client)
        finally:
            for raw in held:
                app.database.pool.release(raw)
    finally:
        await stop_app(app)
    return answer, took, len(held)


async def test_the_pool_holds_as_many_connections_as_its_setting(
    tmp_path: Path, database_url: str
) -> None:
    answer, _, held = await ready_with_every_connection_held(
        tmp_path, database_url, pool_size=4, ready_timeout_seconds=0.3
    )
    assert held == (2 if database_url.startswith("sqlite") else 4)  # SQLite: half
    output = only(answer, "database")["output"]
    assert f"the pool is exhausted, {held} connections in use" in output


async def test_a_pool_timeout_shorter_than_the_checks_says_so(
    tmp_path: Path, database_url: str
) -> None:
    answer, took, _ = await ready_with_every_connection_held(
        tmp_path, database_url, pool_timeout_ms=200
    )
    assert answer.status_code == 503 and took < 1.5  # not the 2 s of the check
    output = only(answer, "database")["output"]
    assert output.startswith("no database connection free within 0.2 s: the pool is exhausted")


# ------------------------------------------------------------------ redis
LIMITED = "{rate-limit: 100/minute}"


@pytest.mark.parametrize(
    ("root", "failure", "status", "code"),
    [
        pytest.param(LIMITED, "open", "warn", 200, id="limits-fail-open"),
        pytest.param(LIMITED, "closed", "fail", 503, id="limits-fail-closed"),
        pytest.param("{}", "closed", "warn", 200, id="no-limits"),
    ],
)
async def test_redis_down_fails_only_where_limits_fail_closed(
    tmp_path: Path, closed_port: int, root: str, failure: str, status: str, code: int
) -> None:
    model = notes_model(tmp_path, root=root)
    redis_url = f"redis://127.0.0.1:{closed_port}/0"
    url = f"sqlite:///{tmp_path / 'notes.db'}"
    async with served(model, url, redis_url=redis_url, rate_limit_failure=failure) as api:
        answer, took = await ready(api)
    assert answer.status_code == code and took < 1
    assert answer.json()["status"] == status
    assert only(answer, "database")["status"] == "pass"
    redis = only(answer, "redis")
    assert redis["status"] == status
    assert redis["output"].startswith("ConnectionError (Connection refused)")
    if status == "warn":
        assert redis["output"].endswith(
            "; rate limits let requests through and cached answers expire by age"
        )
    assert str(closed_port) not in answer.text  # Redis's URL is a secret


async def test_a_redis_that_never_answers_is_warned_within_the_timeout(
    tmp_path: Path, silent: int
) -> None:
    url = f"sqlite:///{tmp_path / 'notes.db'}"
    redis_url = f"redis://127.0.0.1:{silent}/0"
    async with served(
        notes_model(tmp_path), url, redis_url=redis_url, ready_timeout_seconds=0.5
    ) as api:
        answer, took = await ready(api)
    assert answer.status_code == 200 and 0.45 < took < 1.5
    redis = only(answer, "redis")
    assert redis["status"] == "warn"
    assert redis["output"].startswith("no answer to PING within 0.5 s")


async def test_a_broker_down_is_a_warning(tmp_path: Path, closed_port: int) -> None:
    model = notes_model(tmp_path, root="{events: true}")
    url = f"sqlite:///{tmp_path / 'notes.db'}"
    broker = f"amqp://guest:guest@127.0.0.1:{closed_port}/"
    async with served(model, url, events_url=broker) as api:
        answer, _ = await ready(api)
    assert answer.status_code == 200 and answer.json()["status"] == "warn"
    entry = only(answer, f"broker:amqp://127.0.0.1:{closed_port}")
    assert entry == {
        "componentType": "component",
        "status": "warn",
        "observedValue": entry["observedValue"],
        "observedUnit": "ms",
        "output": "ConnectionRefusedError (Connection refused); "
        "events wait in the outbox until it is back",
    }


# ------------------------------------------------------------------ settings
def test_the_timeout_is_a_setting_of_seconds() -> None:
    assert load_settings({}, environ={}).ready_timeout_seconds == 2.0
    environ = {"BACKSMITH_READY_TIMEOUT_SECONDS": "0.5"}
    assert load_settings({}, environ=environ).ready_timeout_seconds == 0.5
    for bad in ("0", "soon", "nan", "-1"):
        with pytest.raises(SettingError, match="ready_timeout_seconds must be a number"):
            load_settings({}, environ={"BACKSMITH_READY_TIMEOUT_SECONDS": bad})


# ------------------------------------------------------------------ docs/health.md
def documented(heading: str) -> dict[str, Any]:
    """The first JSON example under `heading` in docs/health.md."""
    section = PAGE.split(heading, 1)[1]
    return dict(json.loads(section.split("```json\n", 1)[1].split("```", 1)[0]))


def shape(body: dict[str, Any]) -> dict[str, Any]:
    """A report with its measurements and counts blanked: what an example promises."""
    text = json.dumps(body, sort_keys=True)
    text = re.sub(r'"observedValue": [0-9.]+', '"observedValue": 0', text)
    return dict(json.loads(re.sub(r"\b\d+(\.\d+)? (s|ms|connections|requests)\b", r"N \2", text)))


async def test_the_documented_reports_are_what_readyz_answers(
    tmp_path: Path, redis_server: Any
) -> None:
    reachable(RABBITMQ)
    url = f"sqlite:///{tmp_path / 'notes.db'}"
    model = notes_model(tmp_path, root="{events: true}")
    async with served(model, url, redis_url=redis_server.url, events_url=RABBITMQ) as api:
        passing = (await api.get("/readyz")).json()
    assert shape(passing) == shape(documented("## `/readyz`"))
    app = await start_app(notes_model(tmp_path), url, ready_timeout_seconds=0.5)
    try:
        held = await hold_every_connection(app)
        async with client_for(app) as client:
            exhausted = (await client.get("/readyz")).json()
        for raw in held:
            app.database.pool.release(raw)
    finally:
        await stop_app(app)
    assert shape(exhausted) == shape(documented("## Never longer than its timeout"))
    model = notes_model(tmp_path, listing="{slo: {p99: 0.001ms}}")
    async with served(model, url) as api:
        for _ in range(MIN_SAMPLES):
            await api.get("/notes")
        slow = (await api.get("/readyz")).json()
    assert shape(slow) == shape(documented("## Latency budgets"))
