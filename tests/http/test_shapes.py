"""Shapes real APIs answer in, over HTTP on SQLite and PostgreSQL.

tests/fixtures/shapes/api.yaml (with schema.dbml) serves books and their genres through
success envelopes (`{"success": true, "data": {...}}`, `{"data": {...}}`), lists of plain
values (`{"genres": ["fantasy", "sea"]}`), embedded genre names in a declared order,
properties the schema requires or allows to be null, and date-times with one precision.
"""

from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from conftest import FIXTURES, client_for, served, start_app, stop_app

from backsmith.api import load_model
from backsmith.errors import ContractError
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

CONTRACT = FIXTURES / "shapes" / "api.yaml"
MERGE_PATCH = {"content-type": "application/merge-patch+json"}
MILLISECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model(CONTRACT)


async def _create(client: httpx.AsyncClient, **book: Any) -> dict[str, Any]:
    response = await client.post("/books", json={"data": book})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_single_items_answer_in_their_success_envelope(
    model: Model, database_url: str
) -> None:
    async with served(model, database_url) as client:
        made = await _create(client, title="The Old Sea", isbn="978-1", genreNames=["sea"])
        # The fixed members come from the schema: a flag is true, a message its example.
        assert made["success"] is True and made["message"] == "Done"
        assert made["data"]["slug"] == "the-old-sea" and made["data"]["genreNames"] == ["sea"]
        assert set(made) == {"success", "message", "data"}
        got = await client.get("/books/the-old-sea")
        assert got.status_code == 200 and got.json() == made
        # {"data": {...}} alone, in the request and in the answer.
        patched = await client.patch(
            "/books/the-old-sea", json={"data": {"subtitle": "Tales"}}, headers=MERGE_PATCH
        )
        assert patched.status_code == 200, patched.text
        assert patched.json() == {
            "data": {"slug": "the-old-sea", "subtitle": "Tales", "isbn": "978-1"}
        }
        listed = await client.get("/books")
        assert listed.status_code == 200
        assert listed.json()["success"] is True and listed.json()["total"] == 1
        assert [b["slug"] for b in listed.json()["data"]] == ["the-old-sea"]
        # An item wrapped in the request is looked for where the contract puts it.
        unwrapped = await client.post("/books", json={"title": "Bare"})
        assert unwrapped.status_code == 422, unwrapped.text
        missing = await client.get("/books/nothing")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"


async def test_lists_of_plain_values_come_in_value_order(model: Model, database_url: str) -> None:
    async with served(model, database_url) as client:
        await _create(client, title="Sea", genreNames=["sea", "fantasy", "adventure"])
        await _create(client, title="Hills", genreNames=["pastoral"])
        genres = await client.get("/genres")
        assert genres.status_code == 200, genres.text
        assert genres.json() == {"genres": ["adventure", "fantasy", "pastoral", "sea"]}
        mine = await client.get("/books/sea/genres")
        assert mine.json() == {"genres": ["adventure", "fantasy", "sea"]}
        assert (await client.get("/books/hills/genres")).json() == {"genres": ["pastoral"]}
        assert (await client.get("/books/nothing/genres")).status_code == 404
        ids = await client.get("/genre-ids")
        assert ids.json() == {"status": "ok", "ids": [1, 2, 3, 4]}


async def test_embedded_values_follow_the_declared_order(model: Model, database_url: str) -> None:
    async with served(model, database_url) as client:
        made = await _create(client, title="Sea", genreNames=["sea", "adventure", "fantasy"])
        book = made["data"]
        # By value unless declared: never in the order they were sent or stored.
        assert book["genreNames"] == ["adventure", "fantasy", "sea"]
        # sort: -id, the genre stored last first.
        assert book["genresNewestFirst"] == ["fantasy", "adventure", "sea"]
        again = (await _create(client, title="Shore", genreNames=["beach", "sea"]))["data"]
        assert again["genreNames"] == ["beach", "sea"]
        assert again["genresNewestFirst"] == ["beach", "sea"]
        listed = (await client.get("/books")).json()["data"]
        by_slug = {b["slug"]: b["genreNames"] for b in listed}
        assert by_slug == {"sea": ["adventure", "fantasy", "sea"], "shore": ["beach", "sea"]}
        read = (await client.get("/books/sea")).json()["data"]
        assert read["genresNewestFirst"] == ["fantasy", "adventure", "sea"]


async def test_required_and_nullable_properties_answer_null(
    model: Model, database_url: str
) -> None:
    async with served(model, database_url) as client:
        made = (await _create(client, title="Bare"))["data"]
        # subtitle may be null; isbn is required: both are there, as null.
        assert made["subtitle"] is None and made["isbn"] is None
        # published_at is optional and cannot be null: it is left out.
        assert "published_at" not in made
        assert made["genreNames"] == []
        patched = await client.patch(
            "/books/bare", json={"data": {"isbn": "978-2"}}, headers=MERGE_PATCH
        )
        assert patched.json()["data"] == {"slug": "bare", "subtitle": None, "isbn": "978-2"}


async def test_date_times_carry_milliseconds_even_when_stored_in_whole_seconds(
    model: Model, database_url: str
) -> None:
    app = await start_app(model, database_url)
    try:
        async with client_for(app) as client:
            made = await _create(client, title="Dated", published_at="2024-05-01T12:00:00+02:00")
            book = made["data"]
            assert book["published_at"] == "2024-05-01T10:00:00.000Z"
            assert MILLISECONDS.match(book["created_at"]), book["created_at"]
            # A row written by other means, in whole seconds, reads the same way.
            async with app.engine.begin() as conn:
                stamp = "'2024-01-02 03:04:05+00:00'"
                await conn.execute(
                    sqlalchemy.text(
                        f"UPDATE books SET published_at = {stamp}, created_at = {stamp} "
                        "WHERE slug = 'dated'"
                    )
                )
            read = (await client.get("/books/dated")).json()["data"]
            assert read["published_at"] == "2024-01-02T03:04:05.000Z"
            assert read["created_at"] == "2024-01-02T03:04:05.000Z"
            listed = (await client.get("/books")).json()["data"][0]
            assert listed["created_at"] == "2024-01-02T03:04:05.000Z"
    finally:
        await stop_app(app)


@pytest.mark.parametrize(
    ("precision", "answered"),
    [
        ("seconds", "2024-05-01T10:00:00Z"),
        ("microseconds", "2024-05-01T10:00:00.123456Z"),
    ],
)
async def test_the_date_time_precision_is_a_setting(
    model: Model, database_url: str, precision: str, answered: str
) -> None:
    async with served(model, database_url, datetime_precision=precision) as client:
        made = await _create(client, title="Dated", published_at="2024-05-01T10:00:00.123456Z")
        assert made["data"]["published_at"] == answered
        read = await client.get("/books/dated")
        assert read.json()["data"]["published_at"] == answered


@pytest.mark.parametrize(
    ("precision", "sent", "answered"),
    [
        ("microseconds", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000000Z"),
        ("milliseconds", "2024-05-01T10:00:00.000999Z", "2024-05-01T10:00:00.000Z"),
        ("seconds", "2024-05-01T11:00:00.999999+01:00", "2024-05-01T10:00:00Z"),
    ],
)
async def test_a_precision_pads_whole_seconds_and_cuts_longer_fractions(
    model: Model, database_url: str, precision: str, sent: str, answered: str
) -> None:
    async with served(model, database_url, datetime_precision=precision) as client:
        made = await _create(client, title="Dated", published_at=sent)
        assert made["data"]["published_at"] == answered
        listed = (await client.get("/books")).json()["data"]
        assert [b["published_at"] for b in listed] == [answered]


def test_model_shows_plain_values_and_fixed_members(model: Model, tmp_path: Path) -> None:
    ops = {op.operation_id: op for op in model.operations}
    genres = ops["listGenres"].response
    assert genres is not None and genres.envelope.values == "name"
    answer = ops["getBook"].response
    assert answer is not None
    assert answer.envelope.wrapper == "data"
    assert answer.envelope.constants == (("success", True), ("message", "Done"))
    assert ops["createBook"].body_wrapper == "data"


async def test_schemas_that_are_views_of_a_table_are_served_from_it(
    model: Model, database_url: str
) -> None:
    async with served(model, database_url) as client:
        made = (await _create(client, title="The Old Sea", isbn="978-1"))["data"]
        # BookCard's properties are books' columns and its path names books' unique slug.
        card = await client.get("/catalogue/the-old-sea")
        assert card.status_code == 200, card.text
        assert card.json() == {"slug": "the-old-sea", "title": "The Old Sea", "subtitle": None}
        assert (await client.get("/catalogue/nothing")).status_code == 404
        # BookTitle declares x-backsmith: {table: books}.
        book_id = (await client.get("/books")).json()["data"][0]
        assert "id" not in book_id and made["slug"] == "the-old-sea"
        title = await client.get("/titles/1")
        assert title.status_code == 200, title.text
        assert title.json() == {"title": "The Old Sea"}


@pytest.mark.parametrize(
    ("old", "new", "pointer", "words"),
    [
        (
            "x-backsmith: {embed: genres.name, sort: -id}",
            "x-backsmith: {embed: genres.name, sort: -rank}",
            "/components/schemas/Book/properties/genresNewestFirst/x-backsmith/sort",
            ["'rank' is not a column of genres"],
        ),
        (
            "readOnly: true}\n        genreNames:",
            "readOnly: true, x-backsmith: {sort: name}}\n        genreNames:",
            "/components/schemas/Book/properties/created_at/x-backsmith/sort",
            ["'sort' orders an embedded array"],
        ),
        (
            "readOnly: true}\n        genreNames:",
            "readOnly: true, x-backsmith: {sorted: name}}\n        genreNames:",
            "/components/schemas/Book/properties/created_at/x-backsmith/sorted",
            ["unknown x-backsmith key 'sorted'", "did you mean 'sort'"],
        ),
    ],
)
def test_a_bad_sort_is_a_contract_error_with_its_pointer(
    tmp_path: Path, old: str, new: str, pointer: str, words: list[str]
) -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    (tmp_path / "schema.dbml").write_text((CONTRACT.parent / "schema.dbml").read_text())
    path = tmp_path / "api.yaml"
    path.write_text(text.replace(old, new))
    with pytest.raises(ContractError) as caught:
        load_model(path)
    rendered = [issue.render() for issue in caught.value.issues]
    assert len(rendered) == 1, rendered
    assert f": error at #{pointer}: " in rendered[0], rendered[0]
    assert rendered[0].startswith(f"{path}:")
    for word in words:
        assert word in rendered[0]


@pytest.mark.parametrize("precision", ["seconds", "milliseconds", "microseconds"])
def test_the_inline_date_time_form_writes_what_the_writer_writes(precision: str) -> None:
    # Rows are shaped by generated code that writes UTC values inline; every other value
    # (an offset, a naive one) must still come out as the writer makes it.
    from datetime import datetime, timedelta, timezone

    from backsmith.http import shaping

    table = sqlalchemy.Table(
        "stamps",
        sqlalchemy.MetaData(),
        sqlalchemy.Column("at", sqlalchemy.DateTime(timezone=True), nullable=False),
        sqlalchemy.Column("maybe", sqlalchemy.DateTime(timezone=True), nullable=True),
    )
    write = shaping.stamp_writer(precision)
    members = [(name, name, shaping._COLUMN, True, shaping._STAMP) for name in ("at", "maybe")]
    one = shaping._row_function(
        members, table, {shaping._STAMP: write}, shaping.stamp_form(precision)
    )
    east = timezone(timedelta(hours=5, minutes=30))
    for value in (
        datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2025, 1, 2, 3, 4, 5, 1000, tzinfo=east),
        datetime(2025, 1, 2, 3, 4, 5, tzinfo=east),
        datetime(2025, 1, 2, 3, 4, 5, 7),
    ):
        assert one({"at": value, "maybe": value}) == {"at": write(value), "maybe": write(value)}
        assert one({"at": value, "maybe": None}) == {"at": write(value), "maybe": None}
    assert write(datetime(2025, 1, 2, 3, 4, 5, tzinfo=east)).startswith("2025-01-01T21:34:05")
