"""The Definition-of-Done report: one item per promise, each with its evidence.

An item holds (`pass`), does not (`fail`, with why), or does not apply to this contract
(`n/a`, with why: no rate limit declared, no released contract to compare with). The
backend is done when every required item holds or does not apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASS, FAIL, NA = "pass", "fail", "n/a"


@dataclass(frozen=True, slots=True)
class Item:
    key: str  # stable, for scripts reading report.json
    title: str
    status: str
    evidence: str  # one line: what was measured or counted
    required: bool = True
    details: tuple[str, ...] = ()  # what failed, one line each; or the numbers behind it

    @property
    def holds(self) -> bool:
        return self.status != FAIL or not self.required

    def as_data(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "required": self.required,
            "evidence": self.evidence,
            "details": list(self.details),
        }


def passed(key: str, title: str, evidence: str, *details: str, required: bool = True) -> Item:
    return Item(key, title, PASS, evidence, required, details)


def failed(key: str, title: str, evidence: str, *details: str, required: bool = True) -> Item:
    return Item(key, title, FAIL, evidence, required, details)


def not_applicable(key: str, title: str, why: str) -> Item:
    return Item(key, title, NA, why)


def judged(key: str, title: str, ok: bool, evidence: str, *details: str) -> Item:
    """A required item that holds when `ok`."""
    return Item(key, title, PASS if ok else FAIL, evidence, True, details)


@dataclass(slots=True)
class DoneReport:
    """Everything `build` found, in the order it found it."""

    contract: str
    title: str
    version: str
    items: list[Item] = field(default_factory=list)
    seconds: float = 0.0
    files: dict[str, str] = field(default_factory=dict)  # what build wrote: name -> path

    @property
    def failures(self) -> list[Item]:
        return [item for item in self.items if not item.holds]

    @property
    def done(self) -> bool:
        return not self.failures

    @property
    def exit_code(self) -> int:
        return 0 if self.done else 1

    def verdict(self) -> str:
        """The report's one-line answer."""
        required = [item for item in self.items if item.required]
        holding = sum(1 for item in required if item.holds)
        if self.done:
            return f"DONE: {holding} of {len(required)} required items hold"
        names = ", ".join(item.title for item in self.failures)
        return f"NOT DONE: {len(self.failures)} of {len(required)} required items fail ({names})"

    def as_data(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "title": self.title,
            "version": self.version,
            "done": self.done,
            "verdict": self.verdict(),
            "seconds": round(self.seconds, 1),
            "items": [item.as_data() for item in self.items],
            "files": dict(self.files),
        }
