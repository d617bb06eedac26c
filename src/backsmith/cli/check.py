"""`backsmith check`: read and validate a contract, and list what needs a handler."""

from __future__ import annotations

import argparse
import sys

from backsmith.cli.arguments import add_contract, add_setting_flags, setting_flags
from backsmith.model.findings import PRODUCTION

NAME = "check"
HELP = "read and validate the contract, and say what serve will warn about or refuse"
DESCRIPTION = (
    "Read, validate and map the contract; print errors with file, line and JSON pointer, "
    "then every warning serve would log with these settings, each with its pointer and fix "
    "(with --production: what a production start refuses, exit code 2)."
)
FLAGS = ("env",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract(parser)
    add_setting_flags(parser, *FLAGS)


def run(args: argparse.Namespace) -> int:
    from backsmith import api

    report = api.check(args.contract, args.dbml, **setting_flags(args, *FLAGS))
    model = report.model
    for line in report.lines:  # word for word what `serve` logs
        print(line, file=sys.stderr)
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
    )
    for op in custom:
        print(f"  needs a handler: {op.operation_id} ({op.method} {op.path}): {op.reason}")
    return 2 if report.refused else 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
