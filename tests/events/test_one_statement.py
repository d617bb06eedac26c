"""On PostgreSQL a create or an update and its event are one statement; the event's data,
written by SQL, is the item the operation answers, member for member (on SQLite, where
Python writes it in a transaction, too)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import FIXTURES, client_for, created, start_app, stop_app
from test_webhooks import outbox

from backsmith.api import load_model
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio
NOTES = FIXTURES / "events" / "notes.yaml"
TARGETS = {"webhooks": ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"], "relay": False}


@pytest.fixture(scope="module")
def notes() -> Model:
    return load_model(NOTES)


@pytest.mark.parametrize("precision", ["seconds", "milliseconds", "microseconds"])
async def test_the_event_is_the_answer_on_either_path(
    notes: Model, database_url: str, precision: str
) -> None:
    app = await start_app(notes, database_url, datetime_precision=precision, **TARGETS)
    one_statement = app.plans["createNote"].one_statement  # type: ignore[attr-defined]
    assert (one_statement is not None) == database_url.startswith("postgresql")
    try:
        async with client_for(app) as client:
            full = {
                "title": "Tea",
                "subtitle": "green",
                "remark": None,
                "stars": 4,
                "pinned": True,
                "kind": "todo",
                "due_on": "2026-12-24",
                "meta": {"a": [1, {"b": None}], "c": "d"},
                "tags": ["x", "y"],
            }
            answers: list[Any] = [await created(client, "/notes", full)]
            answers.append(await created(client, "/notes", {"title": "Bare"}))
            changed = await client.patch(
                f"/notes/{answers[1]['id']}", json={"remark": "now", "stars": 1}
            )
            assert changed.status_code == 200
            answers.append(changed.json())
            missing = await client.patch(
                "/notes/00000000-0000-4000-8000-000000000000", json={"stars": 2}
            )
            assert missing.status_code == 404  # no row: no event either
        rows = await outbox(app)
        assert [row["type"] for row in rows] == ["note.created"] * 4 + ["note.updated"] * 2
        assert [row["target"] for row in rows[:2]] == TARGETS["webhooks"]
        for answer, (first, second) in zip(
            answers, zip(rows[::2], rows[1::2], strict=True), strict=True
        ):
            assert first["event_id"] == second["event_id"]  # one event, a row per target
            assert json.loads(first["data"]) == answer, first["type"]
            assert first["resource_key"] == answer["id"] and first["operation"] in (
                "createNote",
                "updateNote",
            )
        assert "subtitle" not in json.loads(rows[2]["data"])  # left out when null, as answered
    finally:
        await stop_app(app)


async def test_an_item_of_members_always_there_keeps_the_answers_order(
    database_url: str,
) -> None:
    """Where no member is ever left out, SQL writes the event's data member by member in
    the answer's own order (json, not jsonb, which sorts its keys)."""
    app = await start_app(load_model(FIXTURES / "events" / "tallies.yaml"), database_url, **TARGETS)
    try:
        async with client_for(app) as client:
            given = {"name": "it's 100%", "count": 3, "note": None, "tags": ["a", "b'c"]}
            answers = [await created(client, "/tallies", given)]
            second = {"name": "b", "count": 0, "note": "n", "tags": []}
            answers.append(await created(client, "/tallies", second))
        rows = await outbox(app)
        assert len(rows) == 4 and rows[0]["type"] == "tally.created"
        for answer, row in zip(answers, rows[::2], strict=True):
            data = json.loads(row["data"])
            assert data == answer and list(data) == list(answer)
        assert answers[0]["note"] is None and answers[1]["tags"] == []
        one_statement = app.plans["createTally"].one_statement  # type: ignore[attr-defined]
        assert (one_statement is not None) == database_url.startswith("postgresql")
    finally:
        await stop_app(app)
