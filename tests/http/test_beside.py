"""Deletes that declare no schema in or out delete rows of the table their neighbours serve.

`DELETE /tiles/{id}` answering only 204 names no table; `GET /tiles` beside it lists things
(as ThingCard, a part of Thing), so it deletes a thing. `DELETE /profiles/{id}` has its
table from `GET /profiles/{id}` on the same path, and a nested
`DELETE /things/{thing_id}/parts/{part_id}` finds the part under its thing only. A delete
with no neighbour naming a table (`/tokens/{token}`) answers 501, saying why.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conftest import FIXTURES, served

from backsmith.api import load_model
from backsmith.model.types import Kind

pytestmark = pytest.mark.anyio
CONTRACT = FIXTURES / "beside" / "things.yaml"


async def _thing(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    created = await client.post("/things", json={"name": name, "colour": "red"})
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_deletes_with_no_schema_are_deletes_of_their_neighbours_table() -> None:
    model = load_model(CONTRACT)
    ops = {op.operation_id: op for op in model.operations}
    for name in ("deleteThing", "deleteCard", "deleteProfile", "deletePart"):
        assert ops[name].kind == Kind.DELETE, (name, ops[name].reason)
    assert {ops[n].resource for n in ("deleteThing", "deleteCard", "deleteProfile")} == {"things"}
    assert ops["deletePart"].resource == "parts"
    roles = {p.name: p.role for p in ops["deletePart"].params}
    assert roles == {"thing_id": "scope", "part_id": "key"}
    forget = ops["forgetToken"]
    assert forget.kind == Kind.CUSTOM and forget.resource is None
    assert forget.reason.startswith("declares no JSON schema in or out"), forget.reason


async def test_a_delete_answering_only_204_deletes_the_row(database_url: str) -> None:
    async with served(load_model(CONTRACT), database_url) as client:
        kept, by_item, by_card, by_profile = [
            await _thing(client, n) for n in ("kept", "item", "card", "profile")
        ]
        for path in (
            f"/things/{by_item['id']}",
            f"/tiles/{by_card['id']}",
            f"/profiles/{by_profile['id']}",
        ):
            deleted = await client.delete(path)
            assert deleted.status_code == 204, (path, deleted.text)
            assert deleted.content == b""
            again = await client.delete(path)
            assert again.status_code == 404, (path, again.text)
        for gone in (by_item, by_card, by_profile):
            assert (await client.get(f"/things/{gone['id']}")).status_code == 404
        assert (await client.get(f"/profiles/{by_card['id']}")).status_code == 404
        listed = await client.get("/things")
        assert [t["name"] for t in listed.json()] == ["kept"]
        assert (await client.get(f"/things/{kept['id']}")).status_code == 200


async def test_a_nested_delete_finds_the_row_under_its_parent(database_url: str) -> None:
    async with served(load_model(CONTRACT), database_url) as client:
        owner, other = await _thing(client, "owner"), await _thing(client, "other")
        part = await client.post(f"/things/{owner['id']}/parts", json={"label": "wheel"})
        assert part.status_code == 201, part.text
        part_id = part.json()["id"]

        elsewhere = await client.delete(f"/things/{other['id']}/parts/{part_id}")
        assert elsewhere.status_code == 404, elsewhere.text
        assert len((await client.get(f"/things/{owner['id']}/parts")).json()) == 1

        deleted = await client.delete(f"/things/{owner['id']}/parts/{part_id}")
        assert deleted.status_code == 204, deleted.text
        assert (await client.get(f"/things/{owner['id']}/parts")).json() == []


async def test_a_delete_no_neighbour_names_answers_501_saying_why(database_url: str) -> None:
    async with served(load_model(CONTRACT), database_url) as client:
        answer = await client.delete("/tokens/abc")
        assert answer.status_code == 501, answer.text
        detail = answer.json()["detail"]
        assert "forgetToken" in detail and "needs a handler" in detail, detail
        assert "declares no JSON schema in or out" in detail, detail
