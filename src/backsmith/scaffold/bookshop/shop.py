"""The bookshop's own rules: what CRUD cannot say."""

from __future__ import annotations

from typing import Any

from backsmith.logic import Context, Problem


async def pay_order(ctx: Context) -> Any:
    """Pay for a pending order: its books' stock goes down by its lines, or nothing changes.

    Everything here is one transaction. move() locks the order and refuses any state but
    pending (409), so an order is paid once; each book is locked while its stock is read
    and written back, so two payments for the last copies take turns and never oversell.
    Paying emits `order.paid` (the state it moves to), which the contract's webhook gets.
    """
    orders, books = ctx.rows("orders"), ctx.rows("books")
    if await orders.get(ctx.path["id"]) is None:
        raise Problem(404, "Not Found", "No such order.")
    paid = await orders.move(ctx.path["id"], "paid")
    for line in paid["lines"]:
        book = await books.get(line["book_id"], lock=True)
        if book is None or book["stock"] < line["quantity"]:
            left = book["stock"] if book is not None else 0
            title = book["title"] if book is not None else line["book_id"]
            raise Problem(
                409, "Out of stock", f"'{title}': {left} left, {line['quantity']} wanted."
            )
        await books.update(book["id"], stock=book["stock"] - line["quantity"])
    return paid
