"""The build's first items: the contract reads and lints clean, a prose spec is drafted,
and every endpoint has something serving it (none would answer 501)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from backsmith.model.contract_sites import served_by_declaration
from backsmith.model.types import ACCOUNT_KINDS
from backsmith.verify.done.items import Item, judged, not_applicable, passed
from backsmith.verify.reports import CheckReport
from backsmith.verify.suite.results import SuiteReport


def lint_item(report: CheckReport) -> Item:
    lint = report.lint
    errors = lint.errors
    evidence = (
        f"OpenAPI {report.model.openapi_version}; lint: {len(errors)} errors, "
        f"{len(lint.findings) - len(errors)} warnings, {len(lint.ignored)} turned off"
    )
    details = [issue.render() for issue in errors[:20]]
    if lint.ignored:
        rules = Counter(issue.rule for issue in lint.ignored)
        details.append(
            "turned off by the contract or settings: "
            + ", ".join(f"{rule} ({count})" for rule, count in sorted(rules.items()))
        )
    return judged("lint", "Contract valid, lint clean", not errors, evidence, *details)


def draft_item(spec: str, drafted: tuple[int, int, Path] | None) -> Item:
    """`drafted`: endpoints, guesses and the written contract, for a prose spec."""
    title = "Prose spec drafted"
    if drafted is None:
        return not_applicable("draft", title, f"{spec} is an OpenAPI contract, not prose")
    endpoints, guesses, written = drafted
    return passed(
        "draft",
        title,
        f"{endpoints} endpoints, {guesses} guesses to review in "
        f"{written.with_suffix('.report.md').name}; built from {written}",
        required=False,
    )


def endpoints_item(report: CheckReport, tested: SuiteReport | None = None) -> Item:
    """n of m operations served, by what; any that would answer 501 listed, and any whose
    handler answered 501 to the contract tests (a stub not written yet)."""
    total = len(report.model.operations)
    stubs = _answered_501(tested) if tested is not None else set()
    kinds: Counter[str] = Counter()
    for op in report.crud:
        if op.kind in ACCOUNT_KINDS:
            kinds["built-in accounts"] += 1
        else:
            kinds["by declaration" if served_by_declaration(report.model, op) else "CRUD"] += 1
    for op in report.handled:
        if op.operation_id not in stubs:
            served_by = "transition" if op.policies.transition is not None else "handler"
            kinds[served_by] += 1
    missing = list(report.needs_handler)
    missing += [op for op in report.handled if op.operation_id in stubs]
    served = total - len(missing)
    by = ", ".join(f"{count} {name}" for name, count in kinds.most_common())
    evidence = f"{served} of {total} implemented ({by or 'none'}); {len(missing)} answering 501"
    details = [
        f"{op.operation_id} ({op.method} {op.path}) answers 501: "
        + (
            "its handler is not written yet"
            if op.operation_id in stubs
            else f"{op.reason}; serve it with a handler (docs/handlers.md)"
        )
        for op in missing
    ]
    return judged("endpoints", "Every endpoint implemented", not missing, evidence, *details)


def _answered_501(tested: SuiteReport) -> set[str]:
    """The operations whose valid request the contract tests saw answered 501."""
    return {
        result.operation_id
        for result in tested.operations
        if (happy := result.verdicts.get("happy")) is not None and happy.status == 501
    }
