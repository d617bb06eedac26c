"""Storage faults -> problem answers: conflicts, missing references, an unreachable database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from backsmith.errors import Conflict, Problem, ServiceUnavailable, Unprocessable
from backsmith.storage.database import Database
from backsmith.storage.faults import (
    CheckViolation,
    IntegrityViolation,
    NotNullViolation,
    ReferenceViolation,
    StorageFault,
    Unavailable,
    UniqueViolation,
    ValueOutOfRange,
    ValueRejected,
)
from backsmith.storage.unit import Hook, Work, run_unit

T = TypeVar("T")


async def run_answering(
    database: Database,
    work: Work[T],
    *,
    transaction: bool = False,
    deleting: bool = False,
    hooks: Sequence[Hook] = (),
) -> T:
    """Run `work(conn)` as one unit of work; the faults a client caused become problems.

    Work that is one statement (an INSERT ... RETURNING) is atomic by itself and runs
    without BEGIN and COMMIT around it; callers ask for a transaction when they run more.
    """
    try:
        return await run_unit(database, work, transaction=transaction, hooks=hooks)
    except StorageFault as fault:
        problem = problem_for(fault, deleting)
        if problem is None:
            raise
        raise problem from None


def problem_for(fault: StorageFault, deleting: bool = False) -> Problem | None:
    """The problem a storage fault means for the client, or None for a server fault.

    `deleting`: the work removes a row, so a reference that fails is another row's.
    """
    problem = _problem_for(fault, deleting)
    if problem is None:
        return None  # a fault of the server (a missing table, bad SQL): a 500, logged
    if isinstance(fault, IntegrityViolation):
        problem.column = fault.column  # so a handler can point at the body property
    if fault.at:
        problem.errors = [{"detail": problem.detail, "pointer": fault.at}]
    return problem


def _problem_for(fault: StorageFault, deleting: bool) -> Problem | None:
    named = f" ({fault.column})" if fault.column else ""
    if isinstance(fault, UniqueViolation):
        return Conflict(f"A row with the same unique value{named} already exists.")
    if isinstance(fault, ReferenceViolation):
        if deleting:
            return Conflict("Other rows still refer to this one.")
        return Unprocessable(f"A referenced row{named} does not exist.")
    if isinstance(fault, NotNullViolation):
        return Unprocessable(f"A required value{named} is missing.")
    if isinstance(fault, CheckViolation):
        return Unprocessable("A value breaks a constraint of the data model.")
    if isinstance(fault, IntegrityViolation):
        return Conflict("The change conflicts with the data already stored.")
    if isinstance(fault, ValueRejected):
        return Unprocessable("A value does not fit its column.")
    if isinstance(fault, ValueOutOfRange):
        return Unprocessable("A value is out of range for its column.")
    if isinstance(fault, Unavailable):
        return unavailable()
    return None


def unavailable() -> Problem:
    return ServiceUnavailable("The database is unavailable.", headers={"retry-after": "1"})
