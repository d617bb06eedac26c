"""The audit trail: every change of an audited table's rows, in the change's transaction,
with no secret in it; read back with `backsmith audit`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import PARCELS, client_for, created, start_app, stop_app

from backsmith.api import audit
from backsmith.cli.main import main
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio
CONTRACT = PARCELS


async def test_creates_updates_transitions_and_deletes_are_audited(
    parcels: Model, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = await start_app(parcels, database_url)
    try:
        async with client_for(app) as client:
            parcel = await created(client, "/parcels", {"recipient": "Ada", "secret_note": "s3"})
            path = f"/parcels/{parcel['id']}"
            assert (await client.patch(path, json={"recipient": "Bea"})).status_code == 200
            attempt = await client.post(f"{path}/attempts", json={"note": "out"})
            assert attempt.status_code == 200
            assert (await client.post(f"{path}/lose")).status_code == 500  # rolled back
            assert (await client.post(f"{path}/ship")).status_code == 200
            assert (await client.delete(path)).status_code == 204
        key = str(parcel["id"])
        trail = await asyncio.to_thread(audit, CONTRACT, "parcels", key, database_url=database_url)
        assert [(r["action"], r["operation"]) for r in trail] == [
            ("created", "createParcel"),
            ("updated", "updateParcel"),
            ("updated", "recordAttempt"),
            ("shipped", "shipParcel"),
            ("deleted", "deleteParcel"),
        ]
        first, renamed = trail[0], trail[1]
        assert first["before"] is None and json.loads(first["after"])["recipient"] == "Ada"
        assert json.loads(renamed["before"])["recipient"] == "Ada"
        assert json.loads(renamed["after"])["recipient"] == "Bea"
        assert json.loads(trail[3]["before"])["status"] == "created"
        assert json.loads(trail[3]["after"])["status"] == "shipped"
        assert trail[4]["after"] is None and json.loads(trail[4]["before"])["id"] == parcel["id"]
        everything = json.dumps(trail, default=str)
        assert "s3" not in everything and "secret_note" not in everything  # writeOnly
        assert all(row["subject"] is None for row in trail)  # anonymous callers
        by_schema = await asyncio.to_thread(audit, CONTRACT, "Parcel", database_url=database_url)
        assert len(by_schema) == 5
        flags = ["--database", database_url]
        code = await asyncio.to_thread(main, ["audit", str(CONTRACT), "parcels", key, *flags])
        shown = capsys.readouterr().out
        assert code == 0 and shown.count(f"parcels/{key}") == 5
        assert "shipped  by anonymous  via shipParcel" in shown
    finally:
        await stop_app(app)


async def test_an_audit_row_is_written_with_its_change_or_not_at_all(
    parcels: Model, database_url: str
) -> None:
    app = await start_app(parcels, database_url)
    try:
        async with client_for(app) as client:
            parcel = await created(client, "/parcels", {"recipient": "Ada"})
            refused = await client.patch(
                f"/parcels/{parcel['id']}", json={"recipient": "A", "status": "delivered"}
            )
            assert refused.status_code == 409  # created -> delivered: not allowed
        async with app.engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT action FROM backsmith_audit"))
            assert [row[0] for row in rows] == ["created"]
    finally:
        await stop_app(app)


def test_audit_names_the_resources_it_knows(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert main(["audit", str(CONTRACT), "crates", "--database", url]) == 2
    assert "the contract has no resource 'crates' (parcels)" in capsys.readouterr().err
