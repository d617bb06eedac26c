"""Shared fixtures: the bookshop model, real databases (SQLite and PostgreSQL), an HTTP client.

PostgreSQL tests run against 127.0.0.1:5432 (user postgres, trust auth), MariaDB tests
(migrations) against 127.0.0.1:3306 (root, no password). Each test run creates its own
databases and drops them at the end. Without a server they are skipped, except in CI
(CI=true), where a missing server is a failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import taking_turns

from backsmith.api import load_model
from backsmith.contract.source import parse_text
from backsmith.http.app import BacksmithApp, create_app
from backsmith.model.types import Model
from backsmith.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
BOOKSHOP = ROOT / "examples" / "bookshop" / "api-spec.md"
# The bookshop's handler (shop.py) is found beside it; tests that serve a changed copy of
# the contract from another folder find it here.
sys.path.insert(0, str(BOOKSHOP.parent))
# A parcel service publishing events, audited, with a scheduled job (tests/events/); its
# hooks module is the package parcels beside it.
PARCELS = Path(__file__).resolve().parent / "fixtures" / "events" / "parcels.yaml"
sys.path.insert(0, str(PARCELS.parent))
SHARED = Path(os.environ.get("BACKSMITH_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The corpus and bench folders live beside the project; tests that read them are skipped
# (with the reason) where a checkout has no such neighbour.
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"no shared folder at {SHARED}")
# Tests validate every contract in full: the store of documents validated before is off
# (tests/test_validated.py turns it on in a folder of its own).
os.environ["BACKSMITH_CACHE_DIR"] = ""
PG_ADMIN_URL = os.environ.get("BACKSMITH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MARIADB_ADMIN = os.environ.get("BACKSMITH_TEST_MARIADB", "root@127.0.0.1:3306")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", taking_turns.DESCRIPTION)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[object]:
    """Under pytest-xdist, a test marked `runs_alone` runs while no other does (its setup
    and teardown too); tests/taking_turns.py says how."""
    alone = item.get_closest_marker(taking_turns.MARKER) is not None
    with taking_turns.turn(taking_turns.run_folder(item.config), alone):
        return (yield)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def bookshop_model() -> Model:
    return load_model(BOOKSHOP)


@pytest.fixture(scope="session")
def parcels() -> Model:
    return load_model(PARCELS)


@pytest.fixture
async def receiver() -> AsyncIterator[Any]:
    """A webhook receiver on loopback (tests/webhook_receiver.py), stopped afterwards."""
    from webhook_receiver import Receiver

    taker = Receiver()
    await taker.start()
    yield taker
    await taker.stop()


@pytest.fixture
def redis_server() -> Iterator[Any]:
    """A Redis of the test's own on loopback (tests/policy_servers.py), stopped afterwards."""
    import shutil

    from loopback_ports import free_port
    from policy_servers import RedisServer

    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is required in CI")
        pytest.skip("redis-server is not installed")
    server = RedisServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pgbouncer() -> Iterator[Any]:
    """A PgBouncer of the test's own in transaction pooling (tests/policy_servers.py)."""
    import shutil
    import tempfile

    from policy_servers import PgBouncer

    binary = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("pgbouncer is required in CI (scripts/test-services.sh installs it)")
        pytest.skip("pgbouncer is not installed (scripts/test-services.sh installs it)")
    # Its files are read as the postgres user: not under pytest's root-only folders.
    folder = Path(tempfile.mkdtemp(prefix="backsmith-pgbouncer-"))
    bouncer = PgBouncer(binary, folder)
    yield bouncer
    bouncer.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def instances() -> Iterator[list[Any]]:
    """`backsmith serve` processes a test starts (tests/policy_servers.py), stopped after."""
    started: list[Any] = []
    yield started
    outputs = [instance.stop() for instance in started]  # every one, before any is judged
    for output in outputs:
        assert "Traceback" not in output, output


async def _pg_admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[str]:
    """A PostgreSQL database of the test's own, for `serve` processes to make tables in."""
    import random

    name = f"backsmith_own_{os.getpid()}_{random.randrange(1 << 30)}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    name = f"backsmith_test_{secrets.token_hex(4)}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, Exception) as error:  # no server here
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {error}")
        pytest.skip(f"PostgreSQL not available: {error}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _mariadb_admin(statement: str) -> None:
    import pymysql

    user, _, address = MARIADB_ADMIN.partition("@")
    host, _, port = address.partition(":")
    connection = pymysql.connect(host=host, port=int(port or 3306), user=user, password="")
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """A fresh MariaDB database for this test run, dropped afterwards."""
    name = f"backsmith_test_{secrets.token_hex(4)}"
    try:
        _mariadb_admin(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    except Exception as error:  # no server here
        if os.environ.get("CI"):
            pytest.fail(f"MariaDB is required in CI: {error}")
        pytest.skip(f"MariaDB not available: {error}")
    yield f"mysql+pymysql://{MARIADB_ADMIN}/{name}"
    _mariadb_admin(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return str(request.getfixturevalue("pg_url"))


# Test apps create their tables from the contract, not from a migrations folder beside it.
NO_MIGRATIONS = str(ROOT / "tests" / "no-migrations")


async def start_app(model: Model, database_url: str, **settings: object) -> BacksmithApp:
    """An app with its tables created (dropped first on PostgreSQL, so each test starts empty)."""
    settings.setdefault("migrations", NO_MIGRATIONS)
    app = create_app(
        model, load_settings(model.options, environ={}, database_url=database_url, **settings)
    )
    if not database_url.startswith("sqlite"):
        from sqlalchemy import text

        # Tests share one database: start from an empty schema, whatever the last test made.
        async with app.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    app = create_app(
        model,
        load_settings(
            model.options, environ={}, database_url=database_url, create_tables=True, **settings
        ),
        engine=app.engine,
    )
    await app.startup()
    return app


async def stop_app(app: BacksmithApp) -> None:
    """Close the app's serving connections and the engine the test gave it."""
    await app.shutdown()
    await app.engine.dispose()


def client_for(app: BacksmithApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@asynccontextmanager
async def served(
    model: Model, database_url: str, **settings: object
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client to `model` served on an empty database, closed afterwards."""
    app = await start_app(model, database_url, **settings)
    try:
        async with client_for(app) as client:
            yield client
    finally:
        await stop_app(app)


INTELLIFI = CORPUS / "openapi" / "apis-guru" / "intellifi.nl__default.yaml"


def mended_intellifi(folder: Path) -> Path:
    """intellifi.nl's contract with its one defect mended, written (as JSON) to `folder`.

    As published, its Blob schema requires `key` but declares only `blob_key`: no request
    could create a blob, so the contract is refused (tests/cli/test_check.py shows that).
    Tests of everything else it shows (wrapped write answers, next links, base paths) serve
    the copy, whose Blob requires the property it declares; nothing else differs.
    """
    document = parse_text(INTELLIFI.read_text(encoding="utf-8"), str(INTELLIFI)).data
    blob = document["components"]["schemas"]["Blob"]
    assert blob["required"] == ["key"] and "blob_key" in blob["properties"], blob
    blob["required"] = ["blob_key"]
    mended = folder / INTELLIFI.name
    mended.write_text(json.dumps(document), encoding="utf-8")
    return mended


def write_file(base: Path, name: str, text: str) -> Path:
    """Write dedented `text` to `base/name` (creating folders) and return the path."""
    path = base / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
async def bookshop(bookshop_model: Model, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client to the bookshop served on an empty database."""
    async with served(bookshop_model, database_url) as client:
        yield client


async def created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> Any:
    """POST `body` to `path`, require a 201, and return the answer's JSON."""
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def bearer(secret: str, subject: str = "1") -> dict[str, str]:
    """An Authorization header with an HS256 JWT for `subject`, valid for ten minutes."""
    claims = {"sub": subject, "exp": int(time.time()) + 600}
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}
