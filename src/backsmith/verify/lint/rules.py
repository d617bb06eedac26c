"""The lint rules' registry: each rule's stable id, severity, summary and fix, declared once.

A rule is a function of a `Review` yielding `Hit`s (where, and what is wrong there);
`@rule(...)` registers it with everything a finding, `--format sarif` and the docs table
need. Ids never change once released: configuration and `x-backsmith: {lint-ignore}` name
them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from backsmith.model.types import Model, Operation
from backsmith.settings import Settings

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)


@dataclass(frozen=True, slots=True)
class Hit:
    """One place a rule fires: a pointer into the contract and what is wrong there."""

    pointer: str
    message: str
    scope: str = ""  # the operation it is about, when `pointer` is in a shared component


@dataclass(frozen=True, slots=True)
class Review:
    """What the rules read: the model (the contract as understood), and the settings a
    start would use (CORS, limits)."""

    model: Model
    settings: Settings

    @property
    def document(self) -> dict[str, Any]:
        return self.model.document

    def served(self) -> Iterator[Operation]:
        """The operations, in contract order."""
        return iter(self.model.operations)


Check = Callable[[Review], Iterator[Hit]]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: str
    summary: str  # what the rule looks for, one line (docs, SARIF)
    fix: str  # what to change
    check: Check


RULES: dict[str, Rule] = {}


def rule(rule_id: str, severity: str, summary: str, fix: str) -> Callable[[Check], Check]:
    """Register a rule under `rule_id`."""
    assert severity in SEVERITIES and rule_id not in RULES

    def register(check: Check) -> Check:
        RULES[rule_id] = Rule(rule_id, severity, summary, fix, check)
        return check

    return register


def operation_name(op: Operation) -> str:
    """How findings name an operation: `createBook (POST /books)`."""
    return f"{op.operation_id} ({op.method} {op.path})"
