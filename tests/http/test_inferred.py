"""Relations and views a contract without DBML implies, over HTTP on SQLite and PostgreSQL.

tests/fixtures/shapes/inferred.yaml has no DBML: `Book.author: {$ref: Author}` and
`Item.vault: {id}` are foreign keys (`author_id`, `vault_id`) to the rows they hold,
embedded in answers and written from `{"author": {"id": 1}}` or `authorId`;
`PublicCustomer` and `CustomerCard` are views of `customers`, by convention and declared.
"""

from __future__ import annotations

import pytest
import sqlalchemy
from conftest import (
    CORPUS,
    FIXTURES,
    bearer,
    client_for,
    created,
    needs_shared,
    served,
    start_app,
    stop_app,
)

from backsmith.api import load_model
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

CONTRACT = FIXTURES / "shapes" / "inferred.yaml"
MERGE_PATCH = {"content-type": "application/merge-patch+json"}


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model(CONTRACT)


def test_nested_objects_are_foreign_keys(model: Model) -> None:
    books = model.resources["books"]
    assert [f.column for f in books.fields] == ["id", "title", "author_id"]
    assert [(r.columns, r.target) for r in books.relations] == [(("author_id",), "authors")]
    author_id = books.field("author_id")
    assert author_id is not None and not author_id.nullable  # Book requires its author
    items = model.resources["items"]
    assert [(r.columns, r.target) for r in items.relations] == [(("vault_id",), "vaults")]
    vault_id = items.field("vault_id")
    assert vault_id is not None and vault_id.type == "uuid" and vault_id.nullable


async def test_a_nested_author_is_written_by_id_and_embedded(
    model: Model, database_url: str
) -> None:
    async with served(model, database_url) as client:
        le_guin = await created(client, "/authors", {"name": "Ursula K. Le Guin"})
        butler = await created(client, "/authors", {"name": "Octavia E. Butler"})
        book = await created(
            client, "/books", {"title": "The Dispossessed", "author": {"id": le_guin["id"]}}
        )
        assert book == {"id": 1, "title": "The Dispossessed", "author": le_guin}
        assert (await client.get("/books/1")).json() == book
        assert (await client.get("/books")).json() == [book]
        # The contract's PATCH body names the author by authorId.
        moved = await client.patch("/books/1", json={"authorId": butler["id"]}, headers=MERGE_PATCH)
        assert moved.status_code == 200, moved.text
        assert moved.json()["author"] == butler
        # A reference to no row is refused; so is a nested object that names no row.
        missing = await client.post("/books", json={"title": "Kindred", "author": {"id": 99}})
        assert missing.status_code == 422, missing.text
        assert missing.headers["content-type"] == "application/problem+json"
        unnamed = await client.post("/books", json={"title": "Kindred", "author": {}})
        assert unnamed.status_code == 422
        assert [e["pointer"] for e in unnamed.json()["errors"]] == ["#/author"]
        assert (await client.get("/books")).json() == [moved.json()]


async def test_items_under_a_vault_embed_it(model: Model, database_url: str) -> None:
    async with served(model, database_url) as client:
        vault = await created(client, "/vaults", {"name": "Private"})
        other = await created(client, "/vaults", {"name": "Shared"})
        item = await created(client, f"/vaults/{vault['id']}/items", {"title": "Wi-Fi"})
        assert item["vault"] == {"id": vault["id"]} and item["title"] == "Wi-Fi"
        listed = await client.get(f"/vaults/{vault['id']}/items")
        assert listed.status_code == 200 and listed.json() == [item]
        assert (await client.get(f"/vaults/{other['id']}/items")).json() == []


async def test_views_of_customers_are_served_from_customers(
    model: Model, database_url: str
) -> None:
    async with served(model, database_url) as client:
        customer = {"handle": "ana", "email": "ana@example.com", "avatar": "a.png"}
        made = await created(client, "/customers", customer)
        profile = await client.get("/profiles/ana")
        assert profile.status_code == 200, profile.text
        assert profile.json() == {"profile": {"handle": "ana", "bio": None, "avatar": "a.png"}}
        assert (await client.get("/profiles/bob")).status_code == 404
        card = await client.get(f"/cards/{made['id']}")
        assert card.status_code == 200, card.text
        assert card.json() == {"id": made["id"], "handle": "ana", "email": "ana@example.com"}
    assert set(model.resources) == {"authors", "books", "vaults", "items", "customers"}


ONEPASSWORD = CORPUS / "openapi" / "apis-guru" / "1password.local__connect.yaml"
SECRET = "inferred-relations-test-secret-of-32-bytes"


@needs_shared
async def test_1password_items_are_served_under_their_vault(database_url: str) -> None:
    """The corpus contract: `Item.vault: {id}` beside `/vaults` is the item's vault_id."""
    model = load_model(ONEPASSWORD)
    auth = bearer(SECRET)
    vault, other = "a" * 26, "b" * 26
    app = await start_app(model, database_url, jwt_secret=SECRET)
    try:
        async with app.engine.begin() as conn:  # the contract has no operation making vaults
            for key, name in ((vault, "Private"), (other, "Shared")):
                await conn.execute(
                    sqlalchemy.text("INSERT INTO vaults (id, name) VALUES (:id, :name)"),
                    {"id": key, "name": name},
                )
        async with client_for(app) as client:
            item = {"vault": {"id": vault}, "category": "LOGIN", "title": "Wi-Fi"}
            made = await client.post(f"/vaults/{vault}/items", json=item, headers=auth)
            assert made.status_code == 200, made.text  # the status the contract declares
            assert made.json()["vault"] == {"id": vault} and made.json()["title"] == "Wi-Fi"
            listed = await client.get(f"/vaults/{vault}/items", headers=auth)
            assert listed.status_code == 200, listed.text
            assert [i["title"] for i in listed.json()] == ["Wi-Fi"]
            assert (await client.get(f"/vaults/{other}/items", headers=auth)).json() == []
    finally:
        await stop_app(app)
