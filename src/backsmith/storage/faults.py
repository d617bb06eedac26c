"""The storage layer's typed faults: what a database refusal means, the same on every dialect.

The unit of work (`storage.unit`) raises these for the drivers' refusals; `http` answers
each with a problem. A fault names the column a constraint names (never the value) when
the database says which.
"""

from __future__ import annotations

import re

from backsmith.errors import BacksmithError
from backsmith.storage.statements import DatabaseError

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


class StorageFault(BacksmithError):
    """A database refused the work, or could not do it (converted once, in http/faults.py)."""

    def __init__(self, text: str, column: str = "", at: str = "") -> None:
        super().__init__(text)
        self.text = text
        self.column = column  # the column a constraint names, when the database says
        self.at = at  # where the refused value came from in the caller's input, if said


class IntegrityViolation(StorageFault):
    """The change breaks a constraint of the stored data."""


class UniqueViolation(IntegrityViolation):
    """A row with the same unique value already exists."""


class ReferenceViolation(IntegrityViolation):
    """A referenced row does not exist, or rows still refer to the one removed."""


class NotNullViolation(IntegrityViolation):
    """A required value is missing."""


class CheckViolation(IntegrityViolation):
    """A value breaks a CHECK constraint."""


class ValueRejected(StorageFault):
    """A value does not fit its column (the database's data exception)."""


class ValueOutOfRange(StorageFault):
    """A value the driver cannot bind for its column, such as an integer past 64 bits."""


class Unavailable(StorageFault):
    """The database cannot be reached or cannot take the work now."""


class DatabaseFailure(StorageFault):
    """A fault of the server's own making (a missing table, bad SQL): nothing the caller did."""


def column_named(text: str) -> str:
    """The column a constraint message names (never the value), or ''."""
    for pattern in _COLUMN_PATTERNS:
        found = pattern.search(text)
        if found:
            return found.group(1).strip('"')
    return ""


def fault_for(error: DatabaseError) -> StorageFault:
    """The typed fault a driver's classified refusal means."""
    if error.kind == "integrity":
        column = column_named(f"{error.text} {error.detail}")
        return _integrity(error)(error.text, column, error.at)
    if error.kind == "data":
        return ValueRejected(error.text, at=error.at)
    if error.kind == "unavailable":
        return Unavailable(error.text, at=error.at)
    return DatabaseFailure(error.text, at=error.at)


def _integrity(error: DatabaseError) -> type[IntegrityViolation]:
    def matches(kind: tuple[str, str]) -> bool:
        return error.sqlstate == kind[0] or kind[1] in error.text

    if matches(_UNIQUE):
        return UniqueViolation
    if matches(_FOREIGN_KEY):
        return ReferenceViolation
    if matches(_NOT_NULL):
        return NotNullViolation
    if matches(_CHECK):
        return CheckViolation
    return IntegrityViolation
