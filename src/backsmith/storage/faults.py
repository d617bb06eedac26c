"""Database refusals -> problems: conflicts, missing references, an unreachable database."""

from __future__ import annotations

import re

from backsmith.errors import Conflict, Problem, ServiceUnavailable, Unprocessable
from backsmith.storage.database import DatabaseError

# SQLSTATE codes of PostgreSQL, and the words SQLite uses for the same faults.
_UNIQUE = ("23505", "UNIQUE constraint failed")
_FOREIGN_KEY = ("23503", "FOREIGN KEY constraint failed")
_NOT_NULL = ("23502", "NOT NULL constraint failed")
_CHECK = ("23514", "CHECK constraint failed")

_COLUMN_PATTERNS = (
    re.compile(r"constraint failed: [\w\"]+\.([\w\"]+)"),  # SQLite
    re.compile(r'column "([^"]+)"'),  # PostgreSQL not-null
    re.compile(r"Key \(([^)]+)\)="),  # PostgreSQL unique / foreign key detail
)


def _column(text: str) -> str:
    """The column a constraint message names (never the value), or ''."""
    for pattern in _COLUMN_PATTERNS:
        found = pattern.search(text)
        if found:
            return found.group(1).strip('"')
    return ""


def problem_for(error: DatabaseError, deleting: bool = False) -> Problem | None:
    """The problem a database refusal means for the client, or None for a server fault."""
    column = _column(f"{error.text} {error.detail}")
    problem = _problem_for(error, deleting, column)
    if problem is not None and error.kind == "integrity":
        problem.column = column  # so a handler can point at the body property
    return problem


def _problem_for(error: DatabaseError, deleting: bool, column: str) -> Problem | None:
    named = f" ({column})" if column else ""

    def matches(kind: tuple[str, str]) -> bool:
        return error.sqlstate == kind[0] or kind[1] in error.text

    if error.kind == "integrity":
        if matches(_UNIQUE):
            return Conflict(f"A row with the same unique value{named} already exists.")
        if matches(_FOREIGN_KEY):
            if deleting:
                return Conflict("Other rows still refer to this one.")
            return Unprocessable(f"A referenced row{named} does not exist.")
        if matches(_NOT_NULL):
            return Unprocessable(f"A required value{named} is missing.")
        if matches(_CHECK):
            return Unprocessable("A value breaks a constraint of the data model.")
        return Conflict("The change conflicts with the data already stored.")
    if error.kind == "data":
        return Unprocessable("A value does not fit its column.")
    if error.kind == "unavailable":
        return unavailable()
    return None  # a fault of the server (a missing table, bad SQL): a 500, logged


def unavailable() -> Problem:
    return ServiceUnavailable("The database is unavailable.", headers={"retry-after": "1"})
