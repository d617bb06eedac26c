"""`backsmith check`: read, validate and lint a contract, and list what needs a handler."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from backsmith.cli.arguments import add_contract, add_setting_flags, setting_flags
from backsmith.errors import InputError
from backsmith.model.findings import PRODUCTION

if TYPE_CHECKING:
    from backsmith.verify.lint.run import LintReport

NAME = "check"
HELP = "read, validate and lint the contract, and say what serve will warn about or refuse"
DESCRIPTION = (
    "Read, validate and map the contract; print errors with file, line and JSON pointer, "
    "then every warning serve would log with these settings, each with its pointer and fix "
    "(with --production: what a production start refuses, exit code 2), then the lint "
    "rules' findings, each with its rule id (exit code 1 when one is an error)."
)
FORMATS = ("text", "json", "sarif")
FLAGS = ("env",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract(parser, optional=True)
    add_setting_flags(parser, *FLAGS)
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text lines (default), JSON, or SARIF 2.1.0 for code scanning, on stdout",
    )
    parser.add_argument("--rules", action="store_true", help="list the lint rules and exit")


def run(args: argparse.Namespace) -> int:
    from backsmith import api

    if args.rules:
        return _list_rules()
    if args.contract is None:
        raise InputError("check: name a contract (or set $BACKSMITH_CONTRACT)")
    report = api.check(args.contract, args.dbml, **setting_flags(args, *FLAGS))
    code = 2 if report.refused else 1 if report.lint.errors else 0
    if args.format != "text":
        from backsmith.verify.lint.formats import as_json, as_sarif

        data = as_json(report) if args.format == "json" else as_sarif(report)
        print(json.dumps(data, indent=2))
        return code
    model = report.model
    for line in report.lines:  # word for word what `serve` logs
        print(line, file=sys.stderr)
    for issue in report.lint.findings:
        print(issue.render(), file=sys.stderr)
    custom = report.needs_handler
    production = [f for f in report.findings if f.severity == PRODUCTION]
    warned = len(report.findings) - len(production)
    not_for = "refused in production" if report.production else "not for production"
    read_as = f" (converted from Swagger {model.converted_from})" if model.converted_from else ""
    print(
        f"{args.contract}: OpenAPI {model.openapi_version}{read_as}, "
        f"{_count(len(model.operations), 'operation')} ({len(report.crud)} CRUD, "
        + (f"{len(report.handled)} by handlers, " if report.handled else "")
        + f"{len(custom)} {'needs' if len(custom) == 1 else 'need'} a handler), "
        f"{_count(len(model.resources), 'resource')}, {_count(warned, 'warning')}"
        + (f", {len(production)} {not_for}" if production else "")
        + f"; lint: {_lint_counts(report.lint)}"
    )
    for op in custom:
        print(f"  needs a handler: {op.operation_id} ({op.method} {op.path}): {op.reason}")
    return code


def _lint_counts(lint: LintReport) -> str:
    errors = len(lint.errors)
    counts = [_count(errors, "error"), _count(len(lint.findings) - errors, "warning")]
    if lint.ignored:
        counts.append(f"{len(lint.ignored)} turned off")
    return ", ".join(counts)


def _list_rules() -> int:
    from backsmith.verify.lint.rules import RULES

    for rule in RULES.values():
        print(f"{rule.id:28} {rule.severity:8} {rule.summary}")
    return 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
