"""`backsmith check`: read and validate a contract, and list what needs a handler."""

from __future__ import annotations

import argparse
import sys

from backsmith.cli.arguments import add_contract

NAME = "check"
HELP = "read and validate the contract"
DESCRIPTION = (
    "Read, validate and map the contract; print errors with file, line and JSON pointer, "
    "and DBML/OpenAPI mismatches."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract(parser)


def run(args: argparse.Namespace) -> int:
    from backsmith import api

    report = api.check(args.contract, args.dbml)
    model = report.model
    for warning in model.warnings:
        print(warning, file=sys.stderr)
    custom = report.needs_handler
    print(
        f"{args.contract}: OpenAPI {model.openapi_version}, "
        f"{_count(len(model.operations), 'operation')} ({len(report.crud)} CRUD, "
        f"{len(custom)} {'needs' if len(custom) == 1 else 'need'} a handler), "
        f"{_count(len(model.resources), 'resource')}, {_count(len(model.warnings), 'warning')}"
    )
    for op in custom:
        print(f"  needs a handler: {op.operation_id} ({op.method} {op.path}): {op.reason}")
    return 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
