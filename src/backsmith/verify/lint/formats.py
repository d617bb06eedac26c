"""`check --format json|sarif`: the findings as data, for scripts and for code scanning.

SARIF 2.1.0 is what code-review tools read (GitHub code scanning among them): one run,
the lint rules as the driver's rules, one result per finding with its file, line and the
JSON pointer as a logical location. What `serve` would warn about or refuse comes along
under two ids of its own, so one upload shows everything `check` found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from backsmith import __version__
from backsmith.errors import Issue
from backsmith.model.findings import PRODUCTION
from backsmith.verify.lint.rules import ERROR, INFO, RULES, WARNING
from backsmith.verify.lint.run import UNKNOWN_RULE
from backsmith.verify.reports import CheckReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {ERROR: "error", WARNING: "warning", INFO: "note", PRODUCTION: "warning"}
# What serve finds, under ids of their own beside the lint rules.
SERVE_RULES = {
    "serve-warning": "what serve logs as a warning when it starts",
    "not-for-production": "what a production start refuses",
    UNKNOWN_RULE: "a lint-ignore id that names no lint rule",
}


def _serve_rule(issue: Issue) -> str:
    return "not-for-production" if issue.severity in (PRODUCTION, ERROR) else "serve-warning"


def finding_data(issue: Issue) -> dict[str, Any]:
    """One finding as JSON data."""
    return {
        "rule": issue.rule or _serve_rule(issue),
        "severity": issue.severity,
        "file": issue.file,
        "line": issue.line,
        "pointer": issue.pointer,
        "message": issue.message,
        "fix": issue.fix,
    }


def as_json(report: CheckReport) -> dict[str, Any]:
    """`check --format json`: the lint findings, serve's findings, and the counts."""
    lint = report.lint
    return {
        "contract": report.model.path,
        "operations": len(report.model.operations),
        "lint": [finding_data(issue) for issue in lint.findings],
        "ignored": [finding_data(issue) for issue in lint.ignored],
        "serve": [finding_data(issue) for issue in report.findings],
        "errors": len(lint.errors),
        "needs_handler": [op.operation_id for op in report.needs_handler],
    }


def as_sarif(report: CheckReport) -> dict[str, Any]:
    """`check --format sarif`: SARIF 2.1.0, one run."""
    rules = [
        {
            "id": rule.id,
            "shortDescription": {"text": rule.summary},
            "help": {"text": rule.fix},
            "defaultConfiguration": {"level": _LEVELS[rule.severity]},
        }
        for rule in RULES.values()
    ]
    rules += [{"id": key, "shortDescription": {"text": text}} for key, text in SERVE_RULES.items()]
    results = [_result(issue) for issue in [*report.lint.findings, *report.findings]]
    driver = {
        "name": "backsmith",
        "version": __version__,
        "informationUri": "https://pypi.org/project/backsmith/",
        "rules": rules,
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }


def _result(issue: Issue) -> dict[str, Any]:
    message = f"{issue.message}; fix: {issue.fix}" if issue.fix else issue.message
    result: dict[str, Any] = {
        "ruleId": issue.rule or _serve_rule(issue),
        "level": _LEVELS.get(issue.severity, "warning"),
        "message": {"text": message},
    }
    if issue.file and not issue.file.startswith("$"):  # a setting's finding has no file
        physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(issue.file)}}
        if issue.line is not None:
            physical["region"] = {"startLine": issue.line}
        location: dict[str, Any] = {"physicalLocation": physical}
        if issue.pointer:
            location["logicalLocations"] = [{"fullyQualifiedName": f"#{issue.pointer}"}]
        result["locations"] = [location]
    return result


def artifact_uri(file: str) -> str:
    """A file as SARIF's URI reference: relative paths as they are, percent-encoded;
    absolute ones as `file://` URIs."""
    path = Path(file)
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())
