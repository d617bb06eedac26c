"""Lifecycle rules and transition operations (tests/fixtures/handlers/stockroom.yaml):
every state's allowed moves and a refused one, rules that cannot apply, and a transition
that finds its row as the item path names it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, created, served, write_file

from backsmith.api import load_model
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio
CONTRACT = FIXTURES / "handlers" / "stockroom.yaml"


@pytest.fixture(scope="module")
def stockroom() -> Model:
    return load_model(CONTRACT)


async def _item(client: Any, name: str, stock: int) -> dict[str, Any]:
    return dict(await created(client, "/items", {"name": name, "stock": stock}))


async def test_a_transition_moves_the_row_only_as_its_lifecycle_allows(
    stockroom: Model, database_url: str
) -> None:
    async with served(stockroom, database_url) as client:
        item = await _item(client, "lamp", 5)

        async def order(status: str) -> int:
            made = await created(
                client, "/orders", {"item_id": item["id"], "quantity": 1, "status": status}
            )
            return int(made["id"])

        def change(status: str, quantity: int = 1) -> dict[str, Any]:
            return {"item_id": item["id"], "quantity": quantity, "status": status}

        # every state: the moves it allows, and one it does not
        opened = await order("open")
        moved = await client.post(f"/orders/{opened}/cancel")
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == "cancelled"
        twice = await client.post(f"/orders/{opened}/cancel")  # no move the rule lists
        assert twice.status_code == 409
        assert twice.json()["detail"] == (
            "'status' cannot go from cancelled to cancelled: it may go nowhere from there."
        )
        same = await client.patch(f"/orders/{opened}", json=change("cancelled"))
        assert same.status_code == 200  # keeping the state is no move
        back = await client.patch(f"/orders/{opened}", json=change("open"))
        assert back.status_code == 409
        assert back.json()["detail"] == (
            "'status' cannot go from cancelled to open: it may go nowhere from there."
        )
        paid = await order("open")
        assert (await client.patch(f"/orders/{paid}", json=change("paid"))).status_code == 200
        refused = await client.patch(f"/orders/{paid}", json=change("open"))
        assert refused.status_code == 409
        assert "it may go to shipped, cancelled" in refused.json()["detail"]
        assert refused.json()["errors"][0]["pointer"] == "#/status"
        shipped = await client.patch(f"/orders/{paid}", json=change("shipped"))
        assert shipped.status_code == 200
        late = await client.post(f"/orders/{paid}/cancel")
        assert late.status_code == 409
        assert (await client.get(f"/orders/{paid}")).json()["status"] == "shipped"
        skipping = await order("open")
        jump = await client.patch(f"/orders/{skipping}", json=change("shipped", 3))
        assert jump.status_code == 409
        unchanged = (await client.get(f"/orders/{skipping}")).json()
        assert unchanged["status"] == "open" and unchanged["quantity"] == 1  # nothing written
        assert (await client.post("/orders/999/cancel")).status_code == 404


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ("{field: state, allowed: {open: [paid]}}", "no property of orders"),
        ("{field: status, allowed: {open: [lost]}}", "states 'status' cannot hold: lost"),
        ("{field: status}", "transitions must be {field: <property>"),
    ],
)
def test_a_lifecycle_that_cannot_apply_is_a_contract_error(
    tmp_path: Path, rule: str, said: str
) -> None:
    from backsmith.errors import ContractError

    text = CONTRACT.read_text()
    start = text.index("        transitions:\n")
    end = text.index("      properties:\n", start)
    text = text[:start] + f"        transitions: {rule}\n" + text[end:]
    with pytest.raises(ContractError, match=re.escape(said)):
        load_model(write_file(tmp_path, "stockroom.yaml", text))


def test_a_transition_to_no_state_is_a_contract_error(tmp_path: Path) -> None:
    from backsmith.errors import ContractError

    text = CONTRACT.read_text().replace("{transition: {to: cancelled}}", "{transition: {to: gone}}")
    with pytest.raises(ContractError, match="'gone' is no state of status"):
        load_model(write_file(tmp_path, "stockroom.yaml", text))


ARTICLES = """
openapi: 3.1.0
info: {title: Articles addressed by slug, version: '1'}
paths:
  /articles:
    post:
      operationId: createArticle
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Article'}}}
      responses:
        '201':
          description: created
          content: {application/json: {schema: {$ref: '#/components/schemas/Article'}}}
  /articles/{slug}:
    parameters:
      - {name: slug, in: path, required: true, schema: {type: string},
         x-backsmith: {column: slug}}
    get:
      operationId: getArticle
      responses:
        '200':
          description: the article
          content: {application/json: {schema: {$ref: '#/components/schemas/Article'}}}
  /articles/{slug}/archive:
    parameters:
      - {name: slug, in: path, required: true, schema: {type: string}}
    post:
      operationId: archiveArticle
      x-backsmith: {transition: {to: archived}}
      responses:
        '200':
          description: archived
          content: {application/json: {schema: {$ref: '#/components/schemas/Article'}}}
        '404': {description: no such article}
components:
  schemas:
    Article:
      type: object
      required: [slug]
      x-backsmith:
        transitions: {field: state, allowed: {draft: [archived]}}
      properties:
        id: {type: integer, readOnly: true}
        slug: {type: string}
        state: {type: string, enum: [draft, archived], default: draft}
"""


async def test_a_transition_finds_its_row_as_the_item_path_names_it(
    tmp_path: Path, database_url: str
) -> None:
    model = load_model(write_file(tmp_path, "articles.yaml", ARTICLES))
    async with served(model, database_url) as client:
        await created(client, "/articles", {"slug": "earthsea"})
        archived = await client.post("/articles/earthsea/archive")
        assert archived.status_code == 200, archived.text
        assert archived.json()["state"] == "archived"
        assert (await client.post("/articles/tehanu/archive")).status_code == 404
