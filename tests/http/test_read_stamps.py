"""Date-times read for an answer are cut from text, and answer as a write's do.

On PostgreSQL a row read for an answer (a get, a list page, a write read again) selects its
date-times as the database's text of them, which the shaper cuts to the answer's form; a
write's RETURNING row holds datetimes, which it writes out. Both must give the same text for every
instant, at every precision, and on SQLite, whose rows always hold datetimes. The values
below are the edges of each form: whole seconds, fractions PostgreSQL would shorten, the
first and last instants a datetime holds, an offset, and infinity.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from conftest import FIXTURES, served

from backsmith.api import load_model
from backsmith.http.shaping import stamp_writer
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

SENT = [
    "2024-05-01T10:00:00Z",
    "2024-05-01T10:00:00.5Z",
    "2024-05-01T10:00:00.000001Z",
    "2024-05-01T10:00:00.123456Z",
    "2024-05-01T10:00:00.1234Z",
    "2024-05-01T10:00:00.999999Z",
    "2024-12-31T23:30:00.25-01:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
]
PRECISIONS = ["seconds", "milliseconds", "microseconds"]


@pytest.fixture(scope="module")
def types_model() -> Model:
    return load_model(FIXTURES / "types" / "api.yaml")


@pytest.fixture(params=PRECISIONS)
async def things(
    request: pytest.FixtureRequest, types_model: Model, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    async with served(types_model, database_url, datetime_precision=request.param) as client:
        yield client, request.param


def _expected(sent: str, precision: str) -> str:
    instant = datetime.fromisoformat(sent).astimezone(UTC)
    whole = instant.replace(tzinfo=None).isoformat(timespec="seconds")
    digits = {"seconds": 0, "milliseconds": 3, "microseconds": 6}[precision]
    fraction = f"{instant.microsecond:06d}"[:digits]
    return f"{whole}.{fraction}Z" if digits else f"{whole}Z"


async def _listed(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    page = await client.get("/things", params={"limit": 100})
    assert page.status_code == 200, page.text
    return {item["id"]: item for item in page.json()["items"]}


async def test_a_read_answers_each_date_time_as_its_write_did(
    things: tuple[httpx.AsyncClient, str],
) -> None:
    client, precision = things
    made = []
    for sent in SENT:
        response = await client.post("/things", json={"name": "dated", "seen_at": sent})
        assert response.status_code == 201, response.text
        made.append(response.json())
        assert made[-1]["seen_at"] == _expected(sent, precision)
    listed = await _listed(client)
    for item in made:
        read = (await client.get(f"/things/{item['id']}")).json()
        # created_at and updated_at are the server's own clock: any fraction at all
        for key in ("seen_at", "created_at", "updated_at"):
            assert read[key] == item[key], key
            assert listed[item["id"]][key] == item[key], key


async def test_the_list_walks_date_times_that_differ_by_a_microsecond(
    things: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = things
    for sent in ("2024-05-01T10:00:00.000001Z", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.5Z"):
        await client.post("/things", json={"name": "dated", "seen_at": sent})
    # A cursor holds the last row's sort values: walk one row a page, newest first.
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/things", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 3


@pytest.mark.parametrize("stored", ["infinity", "-infinity"])
async def test_an_infinite_date_time_reads_as_the_datetime_it_decodes_to(
    things: tuple[httpx.AsyncClient, str], database_url: str, stored: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("only PostgreSQL stores infinity")
    client, precision = things
    made = (await client.post("/things", json={"name": "endless"})).json()
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE things SET seen_at = $1::text::timestamptz WHERE id = $2::uuid",
            stored,
            made["id"],
        )
    finally:
        await connection.close()
    decoded = datetime.max if stored == "infinity" else datetime.min
    expected = stamp_writer(precision)(decoded.replace(tzinfo=UTC))
    read = (await client.get(f"/things/{made['id']}")).json()
    assert read["seen_at"] == expected
    assert (await _listed(client))[made["id"]]["seen_at"] == expected


async def test_embedded_rows_answer_their_date_times_as_their_writes_did(
    database_url: str,
) -> None:
    boards = load_model(FIXTURES / "stamps" / "api.yaml", FIXTURES / "stamps" / "schema.dbml")
    async with served(boards, database_url) as client:
        board = (await client.post("/boards", json={"name": "ideas"})).json()
        notes = []
        for sent in SENT:
            body = {"board_id": board["id"], "body": "note", "seen_at": sent}
            made = await client.post("/notes", json=body)
            assert made.status_code == 201, made.text
            notes.append(made.json())
        embedded = (await client.get(f"/boards/{board['id']}")).json()
        assert embedded["created_at"] == board["created_at"]
        assert {n["id"]: n for n in embedded["notes"]} == {n["id"]: n for n in notes}
        for item in (await client.get("/notes")).json()["items"]:
            assert item["board"] == board
