"""System tables: built for the contracts that need them, planned by migrations like any other."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import BOOKSHOP, FIXTURES, write_file

from backsmith.api import load_model
from backsmith.storage.idempotency_table import IDEMPOTENCY_TABLE
from backsmith.storage.migrations import project, runner
from backsmith.storage.migrations.folder import MigrationsFolder
from backsmith.storage.system_tables import SYSTEM_TABLES
from backsmith.storage.tables import build_metadata

KEYS = "backsmith_api_keys"
SESSIONS = "backsmith_refresh_tokens"
OUTBOX, AUDIT, TICKS = "backsmith_outbox", "backsmith_audit", "backsmith_schedule_ticks"
LOG = "backsmith_event_log"
KEPT_KEYS = """
openapi: 3.1.0
info: {title: Keyed, version: '1'}
security: [{header: []}]
paths:
  /notes:
    get:
      operationId: listNotes
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Note'}}
components:
  securitySchemes:
    header: {type: apiKey, in: header, name: X-API-Key}
  schemas:
    Note:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
"""


def _system(names: Iterable[str]) -> set[str]:
    return {name for name in names if name.startswith("backsmith_")}


def test_each_contract_gets_the_system_tables_it_needs(tmp_path: Path) -> None:
    names = [table.name for table in SYSTEM_TABLES]
    assert names == [KEYS, SESSIONS, OUTBOX, LOG, AUDIT, TICKS, IDEMPOTENCY_TABLE]
    # Its webhooks section publishes events; its orders are audited; it schedules no job;
    # its POSTs honour Idempotency-Key.
    bookshop = build_metadata(load_model(BOOKSHOP)).tables
    assert _system(bookshop) == {OUTBOX, LOG, AUDIT, IDEMPOTENCY_TABLE}
    parcels = build_metadata(load_model(FIXTURES / "events" / "parcels.yaml"))
    assert _system(parcels.tables) == {OUTBOX, LOG, AUDIT, TICKS, IDEMPOTENCY_TABLE}
    keyed = build_metadata(load_model(write_file(tmp_path, "keyed.yaml", KEPT_KEYS)))
    assert _system(keyed.tables) == {KEYS}
    assert [c.name for c in keyed.tables[KEYS].columns] == [
        "id",
        "secret_sha256",
        "subject",
        "roles",
        "name",
        "created_at",
        "revoked_at",
    ]
    accounts = build_metadata(load_model(FIXTURES / "accounts" / "api.yaml"))
    assert _system(accounts.tables) == {SESSIONS, IDEMPOTENCY_TABLE}  # other POSTs
    sessions = accounts.tables[SESSIONS]
    assert [c.name for c in sessions.columns] == [
        "id",
        "family",
        "subject",
        "secret_sha256",
        "created_at",
        "expires_at",
        "used_at",
        "revoked_at",
    ]
    assert [c.name for c in sessions.primary_key] == ["id"]
    assert not sessions.c.expires_at.nullable and sessions.c.used_at.nullable


@pytest.mark.parametrize("contract", ["keyed", "accounts"])
def test_migrations_plan_system_tables_like_any_other(tmp_path: Path, contract: str) -> None:
    source = (
        write_file(tmp_path, "keyed.yaml", KEPT_KEYS)
        if contract == "keyed"
        else FIXTURES / "accounts" / "api.yaml"
    )
    model = load_model(source)
    folder = MigrationsFolder(tmp_path / "migrations")
    planned = project.plan_next(model, folder, "initial schema")
    assert planned.path is not None
    wanted = KEYS if contract == "keyed" else SESSIONS
    assert f"'{wanted}'" in planned.path.read_text(encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'system.db'}"
    asyncio.run(project.upgrade(url, folder))
    names = asyncio.run(runner.on_connection(url, lambda c: sa.inspect(c).get_table_names()))
    assert wanted in names
    assert asyncio.run(project.status(url, folder, model)).matches
    assert project.plan_next(model, folder, "again").path is None  # nothing left to plan
