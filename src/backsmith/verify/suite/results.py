"""What a contract test run found: a verdict per operation and check, and their sums."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NA = "n/a"


# The checks, in the matrix's column order, with the column's short title.
CHECKS: tuple[tuple[str, str], ...] = (
    ("happy", "HAPPY"),
    ("validation", "VALID"),
    ("auth", "AUTH"),
    ("not-found", "404"),
    ("idempotency", "IDEMP"),
    ("rate-limit", "LIMIT"),
    ("conditional", "COND"),
    ("transition", "TRANS"),
    ("webhooks", "HOOKS"),
    ("flow", "FLOW"),
    ("fuzz", "FUZZ"),
)
CHECK_NAMES = tuple(name for name, _ in CHECKS)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One check of one operation: passed, failed (with the request that showed it, the
    status it was answered and a one-line reason) or not applicable (with why)."""

    outcome: Outcome
    reason: str = ""
    request: str = ""  # "POST /authors", the request that failed
    status: int | None = None

    def as_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"outcome": str(self.outcome)}
        if self.reason:
            data["reason"] = self.reason
        if self.request:
            data["request"] = self.request
        if self.status is not None:
            data["status"] = self.status
        return data


def requests(count: int, kind: str = "") -> str:
    """`1 request`, `3 invalid requests`: a count of requests in words."""
    return f"{count} {kind}request{'' if count == 1 else 's'}"


def passed(reason: str = "") -> Verdict:
    return Verdict(Outcome.PASS, reason)


def failed(reason: str, request: str = "", status: int | None = None) -> Verdict:
    return Verdict(Outcome.FAIL, reason, request, status)


def not_applicable(reason: str) -> Verdict:
    return Verdict(Outcome.NA, reason)


@dataclass(slots=True)
class OperationResult:
    operation_id: str
    method: str
    path: str
    kind: str
    verdicts: dict[str, Verdict] = field(default_factory=dict)

    def as_data(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "kind": self.kind,
            "checks": {name: self.verdicts[name].as_data() for name in self._ordered()},
        }

    def _ordered(self) -> list[str]:
        return [name for name in CHECK_NAMES if name in self.verdicts]


@dataclass(slots=True)
class SuiteReport:
    contract: str
    target: str
    operations: list[OperationResult]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        found = {outcome: 0 for outcome in Outcome}
        for result in self.operations:
            for verdict in result.verdicts.values():
                found[verdict.outcome] += 1
        return {
            "passed": found[Outcome.PASS],
            "failed": found[Outcome.FAIL],
            "not_applicable": found[Outcome.NA],
        }

    @property
    def exit_code(self) -> int:
        return 1 if self.counts()["failed"] else 0

    def summary_line(self) -> str:
        counts = self.counts()
        return (
            f"{counts['passed']} passed, {counts['failed']} failed, "
            f"{counts['not_applicable']} not applicable"
        )

    def as_data(self) -> dict[str, Any]:
        """test-results.json: the summary first, for readers that want only it."""
        return {
            "summary": self.counts(),
            "contract": self.contract,
            "target": self.target,
            "seconds": round(self.seconds, 2),
            "notes": self.notes,
            "operations": {r.operation_id: r.as_data() for r in self.operations},
        }
