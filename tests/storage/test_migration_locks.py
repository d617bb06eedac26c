"""The migration lock is one database's: on MariaDB, whose named locks are the server's,
two databases on one server migrate at once, while one database's runs take turns."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from conftest import _mariadb_admin

from backsmith.storage.migrations import runner

pytestmark = pytest.mark.mariadb


@pytest.fixture
def other_database(mariadb_url: str) -> Iterator[str]:
    name = f"backsmith_test_{secrets.token_hex(4)}"
    _mariadb_admin(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    yield mariadb_url.rsplit("/", 1)[0] + f"/{name}"
    _mariadb_admin(f"DROP DATABASE IF EXISTS `{name}`")


def _hold_lock(url: str, held: threading.Event, release: threading.Event) -> None:
    def work(conn: sa.Connection) -> None:
        held.set()
        release.wait(15)

    asyncio.run(runner.on_connection(url, work, lock=True))


def _locked_run_seconds(url: str) -> float:
    started = time.monotonic()
    asyncio.run(runner.on_connection(url, lambda conn: None, lock=True))
    return time.monotonic() - started


def test_two_databases_on_one_server_migrate_at_once(mariadb_url: str, other_database: str) -> None:
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(mariadb_url, held, release))
    holder.start()
    try:
        assert held.wait(15)
        assert _locked_run_seconds(other_database) < 5  # not waiting for the other's run
        timer = threading.Timer(1.0, release.set)
        timer.start()
        assert _locked_run_seconds(mariadb_url) >= 0.9  # the same database: its turn after
    finally:
        release.set()
        holder.join(20)
