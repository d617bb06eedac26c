"""A contract whose schemas are named by `$id` and `$anchor` validates and serves through them."""

from __future__ import annotations

import pytest
from conftest import FIXTURES, served

from backsmith.api import load_model

pytestmark = pytest.mark.anyio

SHELF = FIXTURES / "identifiers" / "api.yaml"


async def test_requests_are_checked_against_the_schemas_named_by_id_and_anchor(
    database_url: str,
) -> None:
    async with served(load_model(SHELF), database_url) as client:
        good = {"title": "Kindred", "isbn": "9780807083697", "format": "paperback"}
        created = await client.post("/books", json=good)
        assert created.status_code == 201, created.text
        assert created.json() == {**good, "id": created.json()["id"], "author_id": None}
        read = await client.get(created.headers["location"])
        assert read.status_code == 200 and read.json()["isbn"] == "9780807083697"

        bad = {"title": "", "isbn": "978", "format": "scroll"}
        refused = await client.post("/books", json=bad)
        assert refused.status_code == 422
        pointers = {error["pointer"] for error in refused.json()["errors"]}
        assert pointers == {"#/title", "#/isbn", "#/format"}  # Title, Isbn by $id, $defs

        assert (await client.post("/authors", json={"name": "O"})).status_code == 422
        author = await client.post("/authors", json={"name": "Octavia E. Butler"})
        assert author.status_code == 201 and author.json()["name"] == "Octavia E. Butler"
