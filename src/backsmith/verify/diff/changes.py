"""One change between two contracts, the recorder that places it, and the report of all.

A change points into the new contract (file, line and JSON pointer), or into the old one
when what it names is gone from the new: a removed operation, property or status.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from backsmith.model.types import Model
from backsmith.verify.diff.resolve import Node
from backsmith.verify.diff.rules import RULES, Level

Key = TypeVar("Key")
# What to say of a member only one side has: (rule id, message), from its key and node.
Said = Callable[[Any, Node], tuple[str, str]]

_LEVEL_ORDER = {Level.BREAKING: 0, Level.WARNING: 1, Level.INFO: 2}
_MAJOR = re.compile(r"\s*[vV]?(\d+)")


@dataclass(frozen=True, slots=True)
class Change:
    """What changed, how it weighs on clients, for which operation, and where."""

    rule: str
    level: Level
    message: str
    file: str
    line: int | None
    pointer: str
    side: str = "new"  # the contract the location is in: "new", or "old" for a removal
    method: str = ""  # the operation's, "" for a change to the contract as a whole
    path: str = ""
    operation_id: str = ""

    @property
    def operation(self) -> str:
        """`POST /books (createBook)`, or "" for the contract as a whole."""
        if not self.method:
            return ""
        named = f" ({self.operation_id})" if self.operation_id else ""
        return f"{self.method} {self.path}{named}"

    def render(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        operation = f"{self.operation}: " if self.method else ""
        return f"{where}: {self.level} [{self.rule}] at #{self.pointer}: {operation}{self.message}"

    def as_json(self) -> dict[str, Any]:
        operation = (
            {"method": self.method, "path": self.path, "operationId": self.operation_id or None}
            if self.method
            else None
        )
        return {
            "rule": self.rule,
            "level": str(self.level),
            "operation": operation,
            "message": self.message,
            "location": {
                "contract": self.side,
                "file": self.file,
                "line": self.line,
                "pointer": self.pointer,
            },
        }


@dataclass(slots=True)
class Recorder:
    """Collects changes, each placed in the contract it points into; `at` gives one that
    names an operation."""

    old: Model
    new: Model
    found: list[Change] = field(default_factory=list)
    method: str = ""
    path: str = ""
    operation_id: str = ""

    def at(self, method: str, path: str, operation_id: str) -> Recorder:
        """A recorder whose changes name this operation, adding to the same list."""
        return Recorder(self.old, self.new, self.found, method, path, operation_id)

    def new_side(self, rule: str, message: str, pointer: str) -> None:
        """A change located in the new contract."""
        self._add(rule, message, pointer, self.new, "new")

    def old_side(self, rule: str, message: str, pointer: str) -> None:
        """A change located in the old contract: what it names is gone from the new."""
        self._add(rule, message, pointer, self.old, "old")

    def pair_up(
        self,
        before: Mapping[Key, Node],
        after: Mapping[Key, Node],
        removed: Said,
        added: Said,
    ) -> list[tuple[Key, Node, Node]]:
        """Report the members only one side has (a removal where it was, in the old
        contract); the members both have, old order first, to compare further."""
        both = []
        for key in [*before, *(k for k in after if k not in before)]:
            old, new = before.get(key), after.get(key)
            if old is not None and new is not None:
                both.append((key, old, new))
            elif old is not None:
                self.old_side(*removed(key, old), old.pointer)
            elif new is not None:
                self.new_side(*added(key, new), new.pointer)
        return both

    @property
    def _operation(self) -> tuple[str, str, str]:
        return self.method, self.path, self.operation_id

    def _add(self, rule: str, message: str, pointer: str, model: Model, side: str) -> None:
        file, line = model.locate(pointer)
        level = RULES[rule].level  # an unknown id is a mistake here, not in the contract
        self.found.append(Change(rule, level, message, file, line, pointer, side, *self._operation))


def major_version(version: str) -> int | None:
    """The major number of `1.4.2`, `v2` or `2024.1`; None when it does not start with one."""
    found = _MAJOR.match(version)
    return int(found.group(1)) if found else None


@dataclass(frozen=True, slots=True)
class DiffReport:
    """Every change from the old contract to the new, breaking first."""

    changes: tuple[Change, ...]
    old_version: str
    new_version: str

    @classmethod
    def of(cls, found: list[Change], old_version: str, new_version: str) -> DiffReport:
        ordered = sorted(found, key=lambda c: (_LEVEL_ORDER[c.level], c.path, c.method))
        return cls(tuple(ordered), old_version, new_version)

    def count(self, level: Level) -> int:
        return sum(1 for change in self.changes if change.level == level)

    @property
    def major_raised(self) -> bool:
        """Whether `info.version`'s major number went up: breaking changes announced."""
        old, new = major_version(self.old_version), major_version(self.new_version)
        return old is not None and new is not None and new > old

    @property
    def refused(self) -> bool:
        """A breaking change the version does not announce: what exit code 1 says."""
        return self.count(Level.BREAKING) > 0 and not self.major_raised
