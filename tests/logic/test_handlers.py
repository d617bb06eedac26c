"""Custom operations served by Python handlers (tests/fixtures/handlers/stockroom.yaml).

Restocking is a sync handler named on its operation; paying is an async one the hooks
module serves by operationId. Each runs in the operation's transaction: a refusal or an
unexpected error leaves nothing written.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import FIXTURES, created, served, start_app, stop_app, write_file

from backsmith.api import load_model
from backsmith.api import model as describe_model
from backsmith.logic.loading import HandlerError, load_handlers
from backsmith.model.types import Model
from backsmith.settings import load_settings
from backsmith.storage.unit import run_unit

pytestmark = pytest.mark.anyio
CONTRACT = FIXTURES / "handlers" / "stockroom.yaml"
MILLISECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(scope="module")
def stockroom() -> Model:
    return load_model(CONTRACT)


async def _item(client: httpx.AsyncClient, name: str, stock: int) -> dict[str, Any]:
    return await created(client, "/items", {"name": name, "stock": stock})


async def test_a_sync_handler_changes_a_row_in_its_transaction(
    stockroom: Model, database_url: str
) -> None:
    async with served(stockroom, database_url) as client:
        item = await _item(client, "lamp", 2)
        answer = await client.post(f"/items/{item['id']}/restock", json={"count": 3})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["stock"] == 5 and body["name"] == "Lamp"  # createItem's hook capitalises
        assert MILLISECONDS.match(body["restocked_at"]), body  # written as every answer is
        assert (await client.get(f"/items/{item['id']}")).json()["stock"] == 5


async def test_a_handler_gets_validated_inputs(stockroom: Model, database_url: str) -> None:
    async with served(stockroom, database_url) as client:
        item = await _item(client, "lamp", 2)
        refused = await client.post(f"/items/{item['id']}/restock", json={"count": 0})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["pointer"] == "#/count"
        wrong = await client.post("/items/abc/restock", json={"count": 1})
        assert wrong.status_code == 422
        stats = await client.get("/stats", params={"below": "-1"})
        assert stats.status_code == 422


async def test_a_problem_a_handler_raises_is_answered_as_it_says(
    stockroom: Model, database_url: str
) -> None:
    async with served(stockroom, database_url) as client:
        missing = await client.post("/items/404/restock", json={"count": 1})
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["detail"] == "No such item."
        item = await _item(client, "chair", 1)
        order = await created(client, "/orders", {"item_id": item["id"], "quantity": 1})
        paid = await client.post(f"/orders/{order['id']}/pay")
        assert paid.status_code == 200, paid.text
        assert paid.json()["status"] == "paid"
        again = await client.post(f"/orders/{order['id']}/pay")
        assert again.status_code == 409
        problem = again.json()
        assert problem["title"] == "Already paid"
        assert problem["type"] == "urn:backsmith:problem:already-paid"
        assert problem["code"] == "BSM407"


async def test_a_refusal_leaves_nothing_written(stockroom: Model, database_url: str) -> None:
    async with served(stockroom, database_url) as client:
        item = await _item(client, "desk", 1)
        order = await created(client, "/orders", {"item_id": item["id"], "quantity": 2})
        refused = await client.post(f"/orders/{order['id']}/pay")
        assert refused.status_code == 409
        assert refused.json()["title"] == "Out of stock"
        assert (await client.get(f"/orders/{order['id']}")).json()["status"] == "open"
        assert (await client.get(f"/items/{item['id']}")).json()["stock"] == 1


async def test_an_unexpected_error_rolls_back_and_answers_500_with_a_request_id(
    stockroom: Model, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with served(stockroom, database_url) as client:
        item = await _item(client, "vase", 3)
        broken = await client.post(f"/items/{item['id']}/explode")
        assert broken.status_code == 500
        request_id = broken.headers["x-request-id"]
        assert request_id in broken.json()["detail"]
        assert "broke after writing" not in broken.text  # the fault is the log's, not the client's
        assert (await client.get(f"/items/{item['id']}")).json()["stock"] == 3
    logged = [r for r in caplog.records if r.__dict__.get("request_id") == request_id]
    assert logged and logged[0].exc_info is not None  # with its traceback


async def test_reads_queries_and_no_body_answers(stockroom: Model, database_url: str) -> None:
    async with served(stockroom, database_url) as client:
        await _item(client, "a", 0)
        low = await _item(client, "b", 5)
        stats = await client.get("/stats", params={"below": "2"})
        assert stats.status_code == 200, stats.text
        assert stats.json() == {"items": 2, "units": 5, "low": ["A"], "caller": None}
        shredded = await client.post(f"/items/{low['id']}/shred")
        assert shredded.status_code == 204 and shredded.content == b""
        assert (await client.get(f"/items/{low['id']}")).status_code == 404


async def test_an_answer_outside_the_schema_is_caught_outside_production(
    stockroom: Model, database_url: str
) -> None:
    async with served(stockroom, database_url) as client:
        drifted = await client.get("/drift")
        assert drifted.status_code == 500
        assert "outside the contract's schema" in drifted.json()["detail"]
        assert "#/total" in drifted.json()["detail"]
        listed = (await client.get("/items")).json()
        assert [i["name"] for i in listed] == []  # its write was rolled back with it


async def test_an_operation_with_no_handler_still_answers_501(
    stockroom: Model, database_url: str
) -> None:
    async with served(stockroom, database_url) as client:
        answer = await client.post("/nothing")
        assert answer.status_code == 501


async def test_concurrent_payments_never_sell_more_than_there_is(
    stockroom: Model, pg_url: str
) -> None:
    async with served(stockroom, pg_url) as client:
        item = await _item(client, "last copies", 10)
        orders = [
            await created(client, "/orders", {"item_id": item["id"], "quantity": 1})
            for _ in range(50)
        ]
        answers = await asyncio.gather(*(client.post(f"/orders/{o['id']}/pay") for o in orders))
        statuses = sorted(a.status_code for a in answers)
        assert statuses.count(200) == 10 and statuses.count(409) == 40, statuses
        assert (await client.get(f"/items/{item['id']}")).json()["stock"] == 0


def test_model_names_each_operations_handler() -> None:
    described = describe_model(str(CONTRACT))
    ops = {op["operation_id"]: op for op in described.data["operations"]}
    assert ops["restockItem"]["policies"] == "handler stockroom.hooks:restock"
    assert ops["payOrder"]["policies"] == "handler stockroom.hooks:pay_order"
    assert "reason" in ops["unserved"] and "policies" not in ops["unserved"]
    assert "1 need a handler" in described.table.splitlines()[0]


def _contract_with(tmp_path: Path, handler: str, module: str = "") -> Path:
    text = CONTRACT.read_text().replace("'stockroom.hooks:restock'", repr(handler))
    if module:
        write_file(tmp_path, "odd_hooks.py", module)
    return write_file(tmp_path, "stockroom.yaml", text)


@pytest.mark.parametrize(
    ("handler", "module", "said"),
    [
        ("nowhere.hooks:restock", "", "cannot be imported: ModuleNotFoundError"),
        ("stockroom.hooks:absent", "", "is not defined: stockroom.hooks has no 'absent'"),
        ("odd_hooks:two", "def two(ctx, other):\n    return {}\n", "must take exactly one"),
        ("odd_hooks:broken", "raise ImportError('half-installed')\n", "half-installed"),
    ],
)
def test_a_handler_that_cannot_be_used_is_a_start_up_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, handler: str, module: str, said: str
) -> None:
    monkeypatch.syspath_prepend(str(FIXTURES / "handlers"))  # stockroom.hooks
    monkeypatch.delitem(sys.modules, "odd_hooks", raising=False)
    contract = _contract_with(tmp_path, handler, module)
    loaded = load_model(contract)
    with pytest.raises(HandlerError) as raised:
        load_handlers(loaded, load_settings(loaded.options, environ={}))
    message = str(raised.value)
    assert said in message
    assert f"{contract}:" in message and "/x-backsmith/handler" in message


def test_a_hooks_module_that_cannot_be_imported_names_the_setting(stockroom: Model) -> None:
    settings = load_settings(stockroom.options, environ={"BACKSMITH_HOOKS": "no_such_hooks"})
    with pytest.raises(HandlerError, match=r"BACKSMITH_HOOKS.*no_such_hooks.*ModuleNotFound"):
        load_handlers(stockroom, settings)


async def test_the_docs_example_serves_its_operation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.syspath_prepend(str(FIXTURES / "handlers"))  # the root's hooks module
    doc = (Path(__file__).parents[2] / "docs" / "handlers.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", doc, re.DOTALL)
    write_file(tmp_path, "docs_restock.py", code)
    named = CONTRACT.read_text().replace("'stockroom.hooks:restock'", "'docs_restock:restock'")
    contract = write_file(tmp_path, "stockroom.yaml", named)
    async with served(load_model(contract), database_url) as client:
        item = await _item(client, "lamp", 1)
        answer = await client.post(f"/items/{item['id']}/restock", json={"count": 4})
        assert answer.status_code == 200, answer.text
        assert answer.json()["stock"] == 5
        missing = await client.post("/items/999/restock", json={"count": 4})
        assert missing.status_code == 404


def test_check_counts_the_operations_handlers_serve(capsys: pytest.CaptureFixture[str]) -> None:
    from backsmith.cli.main import main

    assert main(["check", str(CONTRACT)]) == 1  # lint: its writes ask for no credentials
    out = capsys.readouterr().out
    assert "18 operations (8 CRUD, 9 by handlers, 1 needs a handler)" in out
    assert "needs a handler: unserved (POST /nothing)" in out


SECRET = "a-test-secret-of-at-least-32-bytes-long"


def _owned_stockroom(tmp_path: Path) -> Model:
    """The stock room behind bearer tokens, each order its customer's own."""
    text = CONTRACT.read_text()
    text = text.replace(
        "x-backsmith:\n  hooks: stockroom.hooks\n",
        "x-backsmith:\n  hooks: stockroom.hooks\nsecurity: [{bearer: []}]\n",
    )
    text = text.replace(
        "        transitions:\n",
        "        owner: customer_id\n        transitions:\n",
    )
    text = text.replace(
        "        item_id: {type: integer}\n",
        "        item_id: {type: integer}\n        customer_id: {type: string, readOnly: true}\n",
    )
    text += "  securitySchemes:\n    bearer: {type: http, scheme: bearer, bearerFormat: JWT}\n"
    return load_model(write_file(tmp_path, "stockroom.yaml", text))


async def test_a_transition_and_a_handler_act_as_the_rows_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    from conftest import bearer

    monkeypatch.syspath_prepend(str(FIXTURES / "handlers"))  # the root's hooks module
    ana, bo = bearer(SECRET, "ana"), bearer(SECRET, "bo")
    async with served(_owned_stockroom(tmp_path), database_url, jwt_secret=SECRET) as client:
        made = await client.post("/items", json={"name": "lamp", "stock": 3}, headers=ana)
        item = made.json()
        placed = await client.post(
            "/orders", json={"item_id": item["id"], "quantity": 1}, headers=ana
        )
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["customer_id"] == "ana"
        # another caller's private row is not found, by the transition or by a handler
        assert (await client.post(f"/orders/{order['id']}/cancel", headers=bo)).status_code == 404
        assert (await client.post(f"/orders/{order['id']}/pay", headers=bo)).status_code == 404
        assert (await client.post(f"/orders/{order['id']}/cancel")).status_code == 401
        paid = await client.post(f"/orders/{order['id']}/pay", headers=ana)
        assert paid.status_code == 200 and paid.json()["status"] == "paid"
        cancelled = await client.post(f"/orders/{order['id']}/cancel", headers=ana)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        # a handler's helpers create as the caller, never for another owner
        again = await client.post(f"/orders/{order['id']}/reorder", headers=ana)
        assert again.status_code == 201, again.text
        assert again.json()["customer_id"] == "ana"
        theirs = await client.post(
            f"/orders/{order['id']}/reorder", json={"customer_id": "bo"}, headers=ana
        )
        assert theirs.status_code == 422, theirs.text
        assert (await client.post(f"/orders/{order['id']}/reorder", headers=bo)).status_code == 404


def test_check_and_serve_refuse_a_missing_handler_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from backsmith.cli.main import main

    monkeypatch.syspath_prepend(str(FIXTURES / "handlers"))
    named = CONTRACT.read_text().replace("'stockroom.hooks:restock'", "'stockroom.hooks:restok'")
    contract = write_file(tmp_path, "stockroom.yaml", named)
    for command in (["check", str(contract)], ["serve", str(contract), "--port", "1"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        line = err.strip().splitlines()[-1]
        assert "Traceback" not in err
        assert line.endswith(
            "/x-backsmith/handler: handler stockroom.hooks:restok is not defined: "
            "stockroom.hooks has no 'restok'"
        )
        assert f"{contract}:" in line and "error at #/paths/~1items~1{id}~1restock/post" in line


async def test_concurrent_payments_of_one_order_charge_it_once(
    stockroom: Model, pg_url: str
) -> None:
    async with served(stockroom, pg_url) as client:
        item = await _item(client, "lamp", 10)
        order = await created(client, "/orders", {"item_id": item["id"], "quantity": 3})
        answers = await asyncio.gather(
            *(client.post(f"/orders/{order['id']}/pay") for _ in range(4))
        )
        assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
        assert (await client.get(f"/items/{item['id']}")).json()["stock"] == 7


async def test_sql_without_a_value_for_a_parameter_is_a_fault_not_null(
    stockroom: Model, database_url: str
) -> None:
    from backsmith.logic.context import _run_sql

    app = await start_app(stockroom, database_url)
    try:

        async def work(conn: Any) -> Any:
            return await _run_sql(conn, "SELECT :a AS a, :b AS b", {"a": 1})

        with pytest.raises(KeyError, match="no value given for :b"):
            await run_unit(app.database, work)
    finally:
        await stop_app(app)
