"""The service's own logic: a function here serves the operation whose operationId it is
named after (`completeTask`, or `complete_task`), because the contract's root
`x-backsmith: {hooks: hooks}` names this module.

backsmith validates the request against the contract, checks the caller, opens the
transaction and shapes the answer; a function holds only the rule. It gets one context:
`ctx.path`, `ctx.query`, `ctx.body` (validated), `ctx.caller`, and `ctx.rows(name)` over
the model's tables, in the operation's transaction. It returns the answer's body, or
raises `Problem(status, title, detail)`, which rolls the transaction back.
"""

from __future__ import annotations

from typing import Any

from backsmith.logic import Context, Problem


def complete_task(ctx: Context) -> Any:
    """POST /tasks/{id}/complete: mark the task done and answer it."""
    tasks = ctx.rows("tasks")
    task = tasks.get(ctx.path["id"])
    if task is None:
        raise Problem(404, "Not Found", "No such task.")
    return tasks.update(task["id"], done=True)
