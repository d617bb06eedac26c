"""Hooks around CRUD writes (tests/fixtures/handlers/stockroom.yaml): a before-hook that
changes what is written, hooks that refuse (nothing written), an after-hook that refuses
after the row is in (rolled back), and hooks on a delete."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from conftest import FIXTURES, created, served, write_file

from backsmith.api import load_model
from backsmith.errors import ContractError
from backsmith.logic.loading import HandlerError, load_crud_hooks
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio
CONTRACT = FIXTURES / "handlers" / "stockroom.yaml"


@pytest.fixture(scope="module")
def stockroom() -> Model:
    return load_model(CONTRACT)


async def _orders(client: httpx.AsyncClient) -> int:
    item = await created(client, "/items", {"name": "lamp", "stock": 1})
    return int(item["id"])


async def test_a_before_hook_changes_the_values_written(
    stockroom: Model, database_url: str
) -> None:
    async with served(stockroom, database_url) as client:
        item = await created(client, "/items", {"name": "  reading lamp ", "stock": 1})
        assert item["name"] == "Reading lamp"  # the operation's own before-create
        order = await created(
            client, "/orders", {"item_id": item["id"], "quantity": 1, "status": "paid"}
        )
        assert order["status"] == "open"  # the schema's before-create decides


async def test_a_refusing_hook_leaves_nothing_written(stockroom: Model, database_url: str) -> None:
    async with served(stockroom, database_url) as client:
        unknown = await client.post("/orders", json={"item_id": 404, "quantity": 1})
        assert unknown.status_code == 422 and unknown.json()["title"] == "Unknown item"
        empty = await created(client, "/items", {"name": "vase", "stock": 0})
        refused = await client.post("/orders", json={"item_id": empty["id"], "quantity": 1})
        assert refused.status_code == 409, refused.text  # after-create: the row was in
        assert refused.json()["title"] == "Out of stock"
        assert (await client.get("/orders/1")).status_code == 404  # the refused row is gone
        item = await _orders(client)
        order = await created(client, "/orders", {"item_id": item, "quantity": 1})
        paid = await client.post(f"/orders/{order['id']}/pay")
        assert paid.status_code == 200
        change = {"item_id": item, "quantity": 2, "status": "paid"}
        locked = await client.patch(f"/orders/{order['id']}", json=change)
        assert locked.status_code == 409 and locked.json()["title"] == "Locked"
        assert (await client.get(f"/orders/{order['id']}")).json()["quantity"] == 1
        kept = await client.delete(f"/orders/{order['id']}")
        assert kept.status_code == 409 and kept.json()["title"] == "Paid"
        assert (await client.get(f"/orders/{order['id']}")).status_code == 200


async def test_hooks_around_a_delete_see_the_row(stockroom: Model, database_url: str) -> None:
    from stockroom.hooks import FORGOTTEN  # type: ignore[import-not-found]

    async with served(stockroom, database_url) as client:
        item = await _orders(client)
        order = await created(client, "/orders", {"item_id": item, "quantity": 1})
        assert (await client.delete(f"/orders/{order['id']}")).status_code == 204
        assert FORGOTTEN[-1] == order["id"]
        assert (await client.get(f"/orders/{order['id']}")).status_code == 404


def test_model_lists_each_writes_hooks(stockroom: Model) -> None:
    ops = {op.operation_id: op for op in stockroom.operations}
    assert [(m, h.describe()) for m, h, _ in ops["createItem"].hooks] == [
        ("before-create", "stockroom.hooks:tidy_name")
    ]
    assert [m for m, _, _ in ops["changeOrder"].hooks] == ["before-update"]
    assert [m for m, _, _ in ops["deleteOrder"].hooks] == ["before-delete", "after-delete"]
    assert ops["getOrder"].hooks == ()


@pytest.mark.parametrize(
    ("declared", "said"),
    [
        ("{before-creat: 'stockroom.hooks:tidy_name'}", "no hook moment 'before-creat'"),
        ("{before-create: 'stockroom.hooks.tidy_name'}", "'before-create' must be"),
    ],
)
def test_a_hook_that_cannot_be_declared_is_a_contract_error(
    tmp_path: Path, declared: str, said: str
) -> None:
    text = CONTRACT.read_text().replace(
        "{hooks: {before-create: 'stockroom.hooks:tidy_name'}}", f"{{hooks: {declared}}}"
    )
    with pytest.raises(ContractError, match=said):
        load_model(write_file(tmp_path, "stockroom.yaml", text))


def test_a_hook_that_cannot_be_imported_names_its_declaration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(FIXTURES / "handlers"))
    text = CONTRACT.read_text().replace("stockroom.hooks:forget_order", "stockroom.hooks:gone")
    model = load_model(write_file(tmp_path, "stockroom.yaml", text))
    with pytest.raises(HandlerError, match=r"after-delete stockroom\.hooks:gone is not defined"):
        load_crud_hooks(model)


async def test_a_handlers_row_helpers_run_the_schemas_hooks(
    stockroom: Model, database_url: str
) -> None:
    async with served(stockroom, database_url) as client:
        item = await created(client, "/items", {"name": "lamp", "stock": 5})
        order = await created(client, "/orders", {"item_id": item["id"], "quantity": 1})
        doubled = await client.post(f"/orders/{order['id']}/double")
        assert doubled.status_code == 200 and doubled.json()["quantity"] == 2
        assert (await client.post(f"/orders/{order['id']}/pay")).status_code == 200
        locked = await client.post(f"/orders/{order['id']}/double")
        assert locked.status_code == 409 and locked.json()["title"] == "Locked"
        assert (await client.get(f"/orders/{order['id']}")).json()["quantity"] == 2


def test_model_shows_the_hooks_around_each_write() -> None:
    from backsmith.api import model as describe_model

    described = describe_model(str(CONTRACT))
    ops = {op["operation_id"]: op for op in described.data["operations"]}
    assert ops["deleteOrder"]["hooks"] == {
        "before-delete": "stockroom.hooks:keep_paid_orders",
        "after-delete": "stockroom.hooks:forget_order",
    }
    assert "hooks before-create stockroom.hooks:tidy_name" in ops["createItem"]["notes"]


async def test_an_update_with_only_an_after_hook_writes_its_changes(
    stockroom: Model, database_url: str
) -> None:
    from stockroom.hooks import CHANGED  # type: ignore[import-not-found]

    async with served(stockroom, database_url) as client:
        item = await created(client, "/items", {"name": "desk", "stock": 1})
        changed = await client.patch(f"/items/{item['id']}", json={"name": "desk", "stock": 5})
        assert changed.status_code == 200 and changed.json()["stock"] == 5
        assert (await client.get(f"/items/{item['id']}")).json()["stock"] == 5
        assert CHANGED[-1] == (item["id"], 5)  # the after-update saw the row as answered
