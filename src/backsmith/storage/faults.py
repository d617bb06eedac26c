"""Database exceptions -> problems: conflicts, missing references, an unreachable database."""

from __future__ import annotations

import re

import sqlalchemy.exc as sa_exc

from backsmith.errors import Conflict, Problem, ServiceUnavailable, Unprocessable

# SQLSTATE classes of PostgreSQL, and the words SQLite uses for the same faults.
_UNIQUE = ("23505", "UNIQUE constraint failed")
_FOREIGN_KEY = ("23503", "FOREIGN KEY constraint failed")
_NOT_NULL = ("23502", "NOT NULL constraint failed")
_CHECK = ("23514", "CHECK constraint failed")
# SQLite faults that pass: the file cannot be opened now, or another writer holds it too long.
_UNAVAILABLE_SQLITE = ("unable to open database", "database is locked", "disk I/O error")


def _sqlstate(error: BaseException) -> str:
    for candidate in (error, getattr(error, "orig", None), getattr(error, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return str(code)
    return ""


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


def problem_for(error: sa_exc.DBAPIError, deleting: bool = False) -> Problem | None:
    """The problem a database error means for the client, or None for a server fault."""
    text = str(error.orig) if error.orig is not None else str(error)
    detail = getattr(getattr(error.orig, "__cause__", None), "detail", None) or ""
    column = _column(f"{text} {detail}")
    problem = _problem_for(error, deleting, text, column)
    if problem is not None and isinstance(error, sa_exc.IntegrityError):
        problem.column = column  # so a handler can point at the body property
    return problem


def _problem_for(
    error: sa_exc.DBAPIError, deleting: bool, text: str, column: str
) -> Problem | None:
    code = _sqlstate(error)
    named = f" ({column})" if column else ""

    def matches(kind: tuple[str, str]) -> bool:
        return code == kind[0] or kind[1] in text

    if isinstance(error, sa_exc.IntegrityError):
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
    if isinstance(error, sa_exc.DataError):
        return Unprocessable("A value does not fit its column.")
    if error.connection_invalidated or isinstance(error, sa_exc.InterfaceError):
        return unavailable()
    if code.startswith(("08", "57P")) or any(words in text for words in _UNAVAILABLE_SQLITE):
        return unavailable()
    return None  # a fault of the server (a missing table, bad SQL): a 500, logged


def unavailable() -> Problem:
    return ServiceUnavailable("The database is unavailable.", headers={"retry-after": "1"})
