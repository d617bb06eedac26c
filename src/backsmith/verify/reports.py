"""What `check` and `model` hand back: the findings and descriptions their commands print."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backsmith.errors import Issue
from backsmith.model.types import Model, Operation

if TYPE_CHECKING:
    from backsmith.verify.lint.run import LintReport


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What `check` found: the model, the operations that need a handler, and everything
    `serve` would warn about or refuse, with these settings."""

    model: Model
    crud: list[Operation]
    needs_handler: list[Operation]
    findings: list[Issue] = field(default_factory=list)
    production: bool = False
    handled: list[Operation] = field(default_factory=list)  # served by the team's functions
    lint: LintReport = field(default_factory=lambda: _no_lint())  # the contract's pitfalls

    @property
    def lines(self) -> list[str]:
        """The findings as `serve` logs them."""
        from backsmith.security.exposure import finding_lines

        return finding_lines(self.findings, self.production)

    @property
    def refused(self) -> list[Issue]:
        """What would stop a start with these settings (only in production)."""
        from backsmith.model.findings import PRODUCTION

        return [f for f in self.findings if self.production and f.severity == PRODUCTION]


@dataclass(frozen=True, slots=True)
class ModelDescription:
    """How each operation was understood, as a table for people and as JSON data."""

    table: str
    data: dict[str, Any]


def _no_lint() -> LintReport:
    """An empty lint report; the rules are imported only by what runs them (`check`)."""
    from backsmith.verify.lint.run import LintReport

    return LintReport([])
