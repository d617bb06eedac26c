"""`serve` says before serving when its workers' pools may outgrow PostgreSQL's connections,
which would otherwise show only at a busy moment, as 503s."""

from __future__ import annotations

import logging

import pytest
from conftest import FIXTURES, ROOT

from backsmith.api import _preflight, load_model
from backsmith.settings import load_settings
from backsmith.storage.room import pools_too_large, too_many

pytestmark = pytest.mark.anyio


@pytest.mark.postgres
async def test_pools_past_max_connections_are_said(pg_url: str) -> None:
    # 2,000 connections: past any test server's max_connections (PostgreSQL's default: 100)
    too_many = load_settings(environ={}, database_url=pg_url, workers=2, pool_size=1000)
    said = await pools_too_large(too_many)
    assert said is not None
    assert said.startswith("pool_size: 2 worker(s) of 1000 connections may open 2000, more than")
    assert "answered 503" in said
    fitting = load_settings(environ={}, database_url=pg_url, workers=2, pool_size=10)
    assert await pools_too_large(fitting) is None
    # Behind PgBouncer, PgBouncer bounds the connections PostgreSQL sees.
    pooled = load_settings(
        environ={}, database_url=pg_url, workers=2, pool_size=1000, pgbouncer=True
    )
    assert await pools_too_large(pooled) is None


async def test_sqlite_and_an_unreachable_server_say_nothing() -> None:
    sqlite = load_settings(environ={}, database_url="sqlite:///x.db", workers=8, pool_size=900)
    assert await pools_too_large(sqlite) is None
    gone = load_settings(
        environ={}, database_url="postgresql://nobody@127.0.0.1:1/none", pool_size=900
    )
    assert await pools_too_large(gone) is None  # the preflight says it cannot reach it


@pytest.mark.postgres
async def test_the_preflight_logs_it_once(
    pg_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    model = load_model(FIXTURES / "policies" / "limited.yaml")
    settings = load_settings(
        model.options, environ={}, database_url=pg_database, create_tables=True, pool_size=1000
    )
    with caplog.at_level(logging.WARNING, logger="backsmith"):
        await _preflight(model, settings)
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("pool_size:")]
    assert len(said) == 1 and "may open 1000" in said[0]


def test_the_faults_page_shows_the_warning_as_serve_gives_it() -> None:
    assert too_many(1, 10, 100, 3) is None
    said = too_many(1, 200, 100, 3)
    assert said is not None
    assert f"WARNING:  {said}\n" in (ROOT / "docs" / "faults.md").read_text()
