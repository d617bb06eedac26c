"""A handler's `link` and `unlink`: a join table's row added once, removed once."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import client_for, created, start_app, stop_app

from backsmith.events.recorder import recorders
from backsmith.http.handled import resource_access
from backsmith.logic.rows import Rows
from backsmith.model.types import Model
from backsmith.storage.unit import run_unit

pytestmark = pytest.mark.anyio


async def test_link_adds_a_join_row_once_and_unlink_removes_it(
    bookshop_model: Model, database_url: str
) -> None:
    app = await start_app(bookshop_model, database_url)
    try:
        async with client_for(app) as client:
            author = await created(client, "/authors", {"name": "Le Guin"})
            book = await created(
                client,
                "/books",
                {
                    "title": "Tehanu",
                    "isbn": "9780689316644",
                    "author_id": author["id"],
                    "price_cents": 1,
                },
            )
            customer = await created(client, "/customers", {"email": "a@b.example", "name": "A"})
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
