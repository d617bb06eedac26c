"""Items read from the contract test run: validation, authentication and roles, rate
limits, idempotency, and the run as a whole (counts, operations covered)."""

from __future__ import annotations

from collections import Counter

from backsmith.verify.done.items import Item, judged, not_applicable
from backsmith.verify.suite.results import Outcome, SuiteReport

# (check column, key, title, what n/a means for it)
POLICY_CHECKS = (
    ("validation", "validation", "Validation", "no operation takes a body or parameters to check"),
    ("auth", "auth", "Authentication and roles", "no operation asks for credentials"),
    ("rate-limit", "rate-limits", "Rate limits", "no operation declares a rate limit"),
    ("idempotency", "idempotency", "Idempotency keys", "no operation declares idempotency"),
)


def policy_items(report: SuiteReport) -> list[Item]:
    return [_column(report, *check) for check in POLICY_CHECKS]


def _column(report: SuiteReport, check: str, key: str, title: str, none: str) -> Item:
    verdicts = [
        (result, result.verdicts[check])
        for result in report.operations
        if check in result.verdicts and result.verdicts[check].outcome != Outcome.NA
    ]
    if not verdicts:
        reasons = Counter(
            result.verdicts[check].reason
            for result in report.operations
            if check in result.verdicts and result.verdicts[check].reason
        )
        why = reasons.most_common(1)[0][0] if reasons else none
        return not_applicable(key, title, f"not applicable to any operation: {why}")
    failures = [
        f"{result.operation_id}: {verdict.reason}"
        + (f" ({verdict.request} answered {verdict.status})" if verdict.request else "")
        for result, verdict in verdicts
        if verdict.outcome == Outcome.FAIL
    ]
    held = len(verdicts) - len(failures)
    evidence = f"{held} of {len(verdicts)} operations checked hold (`backsmith test`: {check})"
    return judged(key, title, not failures, evidence, *failures)


def tests_item(report: SuiteReport) -> Item:
    counts = report.counts()
    total = len(report.operations)
    covered = sum(
        1
        for result in report.operations
        if any(verdict.outcome == Outcome.PASS for verdict in result.verdicts.values())
    )
    evidence = (
        f"{counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['not_applicable']} not applicable; {covered} of {total} operations covered "
        f"in {report.seconds:.0f} s"
    )
    failures = [
        f"{result.operation_id} {check}: {verdict.reason}"
        for result in report.operations
        for check, verdict in result.verdicts.items()
        if verdict.outcome == Outcome.FAIL
    ]
    return judged("tests", "Contract tests pass", not failures, evidence, *failures[:30])


def logged_exceptions(report: SuiteReport) -> list[str]:
    """What the run's service logged as unhandled exceptions, as the run noted it."""
    return [note for note in report.notes if "unhandled exception" in note]
