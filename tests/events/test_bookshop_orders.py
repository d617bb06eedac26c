"""The bookshop's orders: paid by a handler that takes stock in the payment's transaction,
cancelled by a transition, each change audited and `order.paid` sent to a webhook; and
the row helpers' `link` and `unlink` on its wishlists."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from conftest import BOOKSHOP, client_for, created, start_app, stop_app
from webhook_receiver import SECRET, Receiver

from backsmith.api import audit
from backsmith.events.recorder import recorders
from backsmith.http.handled import resource_access
from backsmith.logic.rows import Rows
from backsmith.model.types import Model
from backsmith.storage.unit import run_unit

pytestmark = pytest.mark.anyio


async def shop(client: httpx.AsyncClient, stock: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A book with `stock` copies, and a customer."""
    author = await created(client, "/authors", {"name": "Ursula K. Le Guin"})
    book = await created(
        client,
        "/books",
        {
            "title": "A Wizard of Earthsea",
            "isbn": "9780547773742",
            "author_id": author["id"],
            "price_cents": 999,
            "stock": stock,
        },
    )
    customer = await created(client, "/customers", {"email": "ana@example.com", "name": "Ana"})
    return book, customer


async def order(client: httpx.AsyncClient, customer: Any, book: Any, quantity: int) -> Any:
    line = {"book_id": book["id"], "quantity": quantity, "unit_price_cents": 999}
    return await created(client, "/orders", {"customer_id": customer["id"], "lines": [line]})


async def stock_of(client: httpx.AsyncClient, book: Any) -> int:
    return int((await client.get(f"/books/{book['slug']}")).json()["stock"])


async def test_paying_takes_the_stock_or_changes_nothing(
    bookshop_model: Model, database_url: str
) -> None:
    app = await start_app(bookshop_model, database_url)
    try:
        async with client_for(app) as client:
            book, customer = await shop(client, 3)
            first = await order(client, customer, book, 2)
            paid = await client.post(f"/orders/{first['id']}/pay")
            assert paid.status_code == 200, paid.text
            assert paid.json()["status"] == "paid" and await stock_of(client, book) == 1
            again = await client.post(f"/orders/{first['id']}/pay")
            assert again.status_code == 409  # paid already: paid -> paid is no move
            second = await order(client, customer, book, 2)
            short = await client.post(f"/orders/{second['id']}/pay")
            assert short.status_code == 409
            assert short.json()["detail"] == "'A Wizard of Earthsea': 1 left, 2 wanted."
            assert (await client.get(f"/orders/{second['id']}")).json()["status"] == "pending"
            assert await stock_of(client, book) == 1  # the refused payment took nothing
            missing = await client.post("/orders/00000000-0000-4000-8000-000000000000/pay")
            assert missing.status_code == 404
            cancelled = await client.post(f"/orders/{second['id']}/cancel")
            assert cancelled.status_code == 200
        trail = await asyncio.to_thread(
            audit, BOOKSHOP, "orders", first["id"], database_url=database_url
        )
        assert [(row["action"], row["operation"]) for row in trail] == [
            ("created", "createOrder"),
            ("paid", "payOrder"),
        ]
        assert json.loads(trail[1]["before"])["status"] == "pending"
    finally:
        await stop_app(app)


@pytest.mark.postgres
async def test_fifty_payments_for_the_last_ten_copies_sell_ten(
    bookshop_model: Model, pg_url: str
) -> None:
    app = await start_app(bookshop_model, pg_url)
    try:
        async with client_for(app) as client:
            book, customer = await shop(client, 10)
            orders = [await order(client, customer, book, 1) for _ in range(50)]
            answers = await asyncio.gather(*(client.post(f"/orders/{o['id']}/pay") for o in orders))
            statuses = sorted(answer.status_code for answer in answers)
            assert statuses == [200] * 10 + [409] * 40, statuses
            assert await stock_of(client, book) == 0
            paid = await client.get("/orders", params={"status": "paid", "per_page": 100})
            assert paid.json()["total"] == 10
    finally:
        await stop_app(app)


async def test_order_paid_reaches_the_webhook(bookshop_model: Model, database_url: str) -> None:
    receiver = Receiver()
    await receiver.start()
    settings = {"webhooks": [receiver.url], "webhook_secret": SECRET, "event_backoff_ms": 50}
    app = await start_app(bookshop_model, database_url, **settings)
    try:
        async with client_for(app) as client:
            book, customer = await shop(client, 5)
            first = await order(client, customer, book, 1)
            assert (await client.post(f"/orders/{first['id']}/pay")).status_code == 200
            second = await order(client, customer, book, 1)
            assert (await client.post(f"/orders/{second['id']}/cancel")).status_code == 200
            paid, cancelled = await receiver.wait_for(2)
        assert paid["valid"] and paid["body"]["type"] == "order.paid"
        assert paid["body"]["data"]["id"] == first["id"]
        assert paid["body"]["data"]["lines"][0]["quantity"] == 1
        assert cancelled["body"]["type"] == "order.cancelled"
        await asyncio.sleep(0.2)
        assert len(receiver.received) == 2  # books and orders created: no webhook of theirs
    finally:
        await stop_app(app)
        await receiver.stop()


async def test_link_adds_a_join_row_once_and_unlink_removes_it(
    bookshop_model: Model, database_url: str
) -> None:
    app = await start_app(bookshop_model, database_url)
    try:
        async with client_for(app) as client:
            book, customer = await shop(client, 1)
            tables = {t.name: t for t in app.metadata.tables.values()}
            access = resource_access(
                app.model, tables, app.settings, recorders(app.model, app.settings)
            )
            pair = {"customer_id": customer["id"], "book_id": book["id"]}

            async def twice(action: str) -> Any:
                async def work(conn: Any) -> list[bool]:
                    rows = Rows(access["wishlists"], conn, None)
                    act = getattr(rows, action)
                    return [await act(pair), await act(pair)]

                return await run_unit(app.database, work, transaction=True)

            assert await twice("link") == [True, False]
            count = (await client.get(f"/books/{book['slug']}")).json()["wishlisted_count"]
            assert count == 1
            assert await twice("unlink") == [True, False]
            count = (await client.get(f"/books/{book['slug']}")).json()["wishlisted_count"]
            assert count == 0

            async def half(conn: Any) -> Any:
                return await Rows(access["wishlists"], conn, None).link(book_id=book["id"])

            with pytest.raises(KeyError, match="name every key"):
                await run_unit(app.database, half, transaction=True)
    finally:
        await stop_app(app)
