"""The one place a handler's database work runs: a connection, a transaction if asked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from backsmith.errors import Unprocessable
from backsmith.storage.database import Database, DatabaseError
from backsmith.storage.faults import problem_for, unavailable


async def run_work(
    database: Database,
    work: Callable[[Any], Awaitable[Any]],
    *,
    transaction: bool = False,
    deleting: bool = False,
) -> Any:
    """Run `work(conn)`, in one transaction if asked; database refusals become problems.

    Work that is one statement (an INSERT ... RETURNING) is atomic by itself and runs
    without BEGIN and COMMIT around it; callers ask for a transaction when they run more.
    """
    try:
        return await database.run(work, transaction)
    except DatabaseError as error:
        problem = problem_for(error, deleting)
        if problem is None:
            raise
        raise problem from None
    except OverflowError:  # a value the driver cannot bind, e.g. an integer past 64 bits
        raise Unprocessable("A value is out of range for its column.") from None
    except (OSError, TimeoutError):  # the driver could not reach the server at all
        raise unavailable() from None
