"""The build's first items: the contract reads and lints clean, a prose spec is drafted,
and every endpoint has something serving it (none would answer 501)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from backsmith.model.types import ACCOUNT_KINDS
from backsmith.verify.done.items import Item, judged, not_applicable, passed
from backsmith.verify.reports import CheckReport


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


def endpoints_item(report: CheckReport) -> Item:
    """n of m operations served, by what; any that would answer 501 listed."""
    total = len(report.model.operations)
    kinds: Counter[str] = Counter()
    for op in report.crud:
        kinds["built-in accounts" if op.kind in ACCOUNT_KINDS else "CRUD"] += 1
    for op in report.handled:
        served_by = "transition" if op.policies.transition is not None else "handler"
        kinds[served_by] += 1
    missing = report.needs_handler
    served = total - len(missing)
    by = ", ".join(f"{count} {name}" for name, count in kinds.most_common())
    evidence = f"{served} of {total} implemented ({by or 'none'}); {len(missing)} answering 501"
    details = [
        f"{op.operation_id} ({op.method} {op.path}) answers 501: {op.reason}; serve it with a "
        "handler (docs/handlers.md)"
        for op in missing
    ]
    return judged("endpoints", "Every endpoint implemented", not missing, evidence, *details)
