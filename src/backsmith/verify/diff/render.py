"""A diff report as text or JSON, and the rules as the Markdown tables `docs/diff.md` shows."""

from __future__ import annotations

import json

from backsmith.verify.diff.changes import DiffReport
from backsmith.verify.diff.rules import (
    OPERATION_RULES,
    REQUEST_SUBJECTS,
    RESPONSE_SUBJECTS,
    SCHEMA_RULES,
    Level,
)


def summary(report: DiffReport) -> str:
    """`3 breaking, 1 warning, 5 safe`, and whether the major version announces them."""
    if not report.changes:
        return "no changes"
    warnings = report.count(Level.WARNING)
    said = (
        f"{report.count(Level.BREAKING)} breaking, "
        f"{warnings} warning{'' if warnings == 1 else 's'}, {report.count(Level.INFO)} safe"
    )
    if report.major_raised and report.count(Level.BREAKING):
        said += (
            f"; info.version went from {report.old_version} to {report.new_version}: "
            "the major version was raised, so the breaking changes are announced"
        )
    return said


def render_text(report: DiffReport) -> str:
    """One line per change, breaking first, then the summary."""
    return "".join(f"{change.render()}\n" for change in report.changes) + summary(report) + "\n"


def render_json(report: DiffReport) -> str:
    document = {
        "old_version": report.old_version,
        "new_version": report.new_version,
        "major_version_raised": report.major_raised,
        "summary": {
            "breaking": report.count(Level.BREAKING),
            "warning": report.count(Level.WARNING),
            "safe": report.count(Level.INFO),
        },
        "changes": [change.as_json() for change in report.changes],
    }
    return json.dumps(document, indent=2) + "\n"


def rules_tables() -> str:
    """The rules as two Markdown tables: whole ids, then schema rules by suffix."""
    lines = ["| rule | level | what changed |", "| --- | --- | --- |"]
    lines += [f"| `{rule.id}` | {rule.level} | {rule.meaning} |" for rule in OPERATION_RULES]
    request = ", ".join(f"`{subject}-`" for subject in REQUEST_SUBJECTS)
    response = ", ".join(f"`{subject}-`" for subject in RESPONSE_SUBJECTS)
    lines += [
        "",
        f"| rule suffix | in a request ({request}) | in a response ({response}) | what changed |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{suffix}` | {in_request} | {in_response} | {meaning} |"
        for suffix, (in_request, in_response, meaning) in SCHEMA_RULES.items()
    ]
    return "\n".join(lines) + "\n"
