"""Scheduled jobs: each tick runs once across every instance sharing the database."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import PARCELS, client_for, created, start_app, stop_app, write_file

from backsmith.api import load_model
from backsmith.cli.main import main
from backsmith.events.schedules import Scheduler
from backsmith.http.app import BacksmithApp, create_app
from backsmith.logic.loading import HandlerError, load_schedules
from backsmith.model.types import Model
from backsmith.settings import load_settings
from backsmith.storage.database import Database
from backsmith.storage.engine import dialect_for

pytestmark = pytest.mark.anyio
CONTRACT = PARCELS


def instances(model: Model, app: BacksmithApp, url: str, clock: Any = None) -> list[Any]:
    """Two schedulers, each on a database pool of its own, as two instances would be."""
    settings = load_settings(model.options, environ={}, database_url=url)
    jobs = load_schedules(model, settings)
    made = []
    for _ in range(2):
        database = Database.for_url(url, dialect_for(url))
        options = {"clock": clock} if clock is not None else {}
        made.append(Scheduler(database, jobs, settings, app_resources(app), **options))
    return made


def app_resources(app: BacksmithApp) -> Any:
    from backsmith.events.recorder import recorders
    from backsmith.http.handled import resource_access

    tables = {t.name: t for t in app.metadata.tables.values()}
    return resource_access(app.model, tables, app.settings, recorders(app.model, app.settings))


async def statuses(app: BacksmithApp) -> list[str]:
    async with app.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT status FROM parcels ORDER BY id"))
        return [row[0] for row in rows]


async def test_a_tick_runs_once_across_two_instances(parcels: Model, database_url: str) -> None:
    app = await start_app(parcels, database_url, relay=False)
    try:
        async with client_for(app) as client:
            for name in ("Ada", "Bea"):
                await created(client, "/parcels", {"recipient": name})
        one, two = instances(parcels, app, database_url)
        [(schedule, bound)] = one.jobs
        tick = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
        ran = await asyncio.gather(
            one.run_tick(schedule, bound, tick), two.run_tick(schedule, bound, tick)
        )
        assert sorted(ran) == [False, True]
        assert await statuses(app) == ["cancelled", "cancelled"]
        assert await one.run_tick(schedule, bound, tick + timedelta(days=1))  # the next tick
        for scheduler in (one, two):
            await scheduler.database.close()
    finally:
        await stop_app(app)


async def test_instances_on_one_clock_run_the_job_at_its_tick(
    parcels: Model, database_url: str
) -> None:
    app = await start_app(parcels, database_url, relay=False)
    try:
        async with client_for(app) as client:
            await created(client, "/parcels", {"recipient": "Ada"})
        # A clock half a second before 03:00, so the job's next tick comes at once.
        offset = datetime(2026, 12, 4, 2, 59, 59, 500_000, tzinfo=UTC) - datetime.now(UTC)
        schedulers = instances(parcels, app, database_url, lambda: datetime.now(UTC) + offset)
        stop = asyncio.Event()
        running = [asyncio.create_task(s.run(stop)) for s in schedulers]
        await asyncio.sleep(1.2)
        stop.set()
        await asyncio.gather(*running)
        async with app.engine.connect() as conn:
            ticks = (await conn.execute(sa.text("SELECT job FROM backsmith_schedule_ticks"))).all()
        assert [row[0] for row in ticks] == ["sweep"]
        assert await statuses(app) == ["cancelled"]
        for scheduler in schedulers:
            await scheduler.database.close()
    finally:
        await stop_app(app)


def test_a_schedule_that_is_no_cron_expression_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = CONTRACT.read_text().replace('"0 3 * * *"', '"every night"')
    contract = write_file(tmp_path, "parcels.yaml", text)
    assert main(["check", str(contract)]) == 2
    error = capsys.readouterr().err
    assert "error at #/x-backsmith/schedules/sweep: 'every night' is no cron expression" in error


def test_a_job_with_no_module_needs_a_hooks_module(tmp_path: Path) -> None:
    text = CONTRACT.read_text().replace("  hooks: parcels.hooks\n", "")
    text = text.replace(
        "operationId: recordAttempt",
        "operationId: recordAttempt\n      x-backsmith: {handler: 'parcels.hooks:record_attempt'}",
    )
    text = text.replace(
        "operationId: loseParcel",
        "operationId: loseParcel\n      x-backsmith: {handler: 'parcels.hooks:lose_parcel'}",
    )
    model = load_model(write_file(tmp_path, "parcels.yaml", text))
    with pytest.raises(HandlerError, match="job 'sweep' names no module and no hooks module"):
        load_schedules(model, load_settings(model.options, environ={}))


def test_model_shows_what_a_contract_publishes_audits_and_schedules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["model", str(CONTRACT)]) == 0
    out = capsys.readouterr().out
    assert "webhooks take parcel.created, parcel.shipped, parcel.attempted" in out
    assert "audited: parcels\nscheduled: sweep at 0 3 * * *" in out
    assert main(["model", str(CONTRACT), "--json"]) == 0
    described = json.loads(capsys.readouterr().out)["events"]
    assert described == {
        "published": True,
        "webhook_types": ["parcel.created", "parcel.shipped", "parcel.attempted"],
        "audited": ["parcels"],
        "schedules": {"sweep": "0 3 * * *"},
    }


def test_a_job_that_cannot_be_imported_stops_the_start(tmp_path: Path) -> None:
    text = CONTRACT.read_text().replace("{sweep: ", "{'parcels.hooks:sweap': ")
    model = load_model(write_file(tmp_path, "parcels.yaml", text))
    settings = load_settings(model.options, environ={}, database_url="sqlite:///x.db")
    with pytest.raises(HandlerError, match=r"job parcels\.hooks:sweap is not defined"):
        create_app(model, settings)
