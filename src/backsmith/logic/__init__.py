"""The team's own logic: Python functions that serve the operations CRUD does not.

    from backsmith.logic import Context, Problem

    def restock(ctx: Context) -> dict:
        item = ctx.rows("items").get(ctx.path["id"])
        if item is None:
            raise Problem(404, "Not Found", "No such item.")
        return ctx.rows("items").update(item["id"], stock=item["stock"] + ctx.body["count"])

Name it on the operation (`x-backsmith: {handler: "shop.hooks:restock"}`), or name a hooks
module once (`x-backsmith: {hooks: shop.hooks}` at the root, or BACKSMITH_HOOKS) and call
the function as the operationId. docs/handlers.md has the whole of it.
"""

from backsmith.errors import Refused as Problem
from backsmith.logic.context import Caller, Context

__all__ = ["Caller", "Context", "Problem"]
