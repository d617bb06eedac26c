"""The one place a handler's database work runs: a unit of work whose faults become problems."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from backsmith.http.faults import run_answering
from backsmith.storage.database import Database
from backsmith.storage.unit import Hook


async def run_work(
    database: Database,
    work: Callable[[Any], Awaitable[Any]],
    *,
    transaction: bool = False,
    deleting: bool = False,
    hooks: Sequence[Hook] = (),
) -> Any:
    """Run `work(conn)` as one unit of work, in a transaction if asked or hooked.

    Work that is one statement (an INSERT ... RETURNING) is atomic by itself and runs
    without BEGIN and COMMIT around it; callers ask for a transaction when they run more.
    Storage faults the client caused become problems (`http.faults`), once.
    """
    return await run_answering(
        database, work, transaction=transaction, deleting=deleting, hooks=hooks
    )
