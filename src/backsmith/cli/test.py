"""`backsmith test`: run the contract test suite derived from the contract."""

from __future__ import annotations

import argparse
from pathlib import Path

from backsmith.cli.arguments import add_contract
from backsmith.cli.service_options import add_target, whole

NAME = "test"
HELP = "run a contract test suite derived from the contract against a service"
DESCRIPTION = (
    "For every operation: the happy path, validation, auth, not found, the declared "
    "idempotency, rate limits, conditional requests and transitions, CRUD flows per "
    "resource and a schemathesis run, against a service at --url (backsmith's or hand-"
    "written) or one started on a scratch database. Prints the operation x check matrix; "
    "writes test-results.json (and JUnit XML with --junit). Exit 1 when a check fails."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract(parser)
    target = add_target(parser)
    target.add_argument(
        "--header",
        metavar="'NAME: VALUE'",
        action="append",
        default=[],
        help="a header every request carries (repeatable), e.g. an API key",
    )
    chosen = parser.add_argument_group("checks")
    chosen.add_argument("--ops", metavar="A,B", help="only these operationIds")
    chosen.add_argument(
        "--examples", metavar="N", default="10", help="schemathesis examples per operation (10)"
    )
    files = parser.add_argument_group("files")
    files.add_argument("--junit", metavar="FILE", help="write JUnit XML here")
    files.add_argument(
        "--out", metavar="DIR", default="test-results", help="where test-results.json goes"
    )


def run(args: argparse.Namespace) -> int:
    from backsmith import api
    from backsmith.bench.options import parse_ops
    from backsmith.verify.suite import SuiteOptions
    from backsmith.verify.suite.matrix import render
    from backsmith.verify.suite.options import parse_header

    options = SuiteOptions(
        contract=args.contract,
        dbml=args.dbml,
        url=args.url,
        database_url=args.database_url,
        jwt_secret=args.jwt_secret,
        headers=tuple(parse_header(text) for text in args.header),
        junit=Path(args.junit) if args.junit else None,
        out=Path(args.out),
        ops=parse_ops(args.ops),
        examples=whole("--examples", args.examples),
    )
    report = api.test(options)
    print(render(report))
    return report.exit_code
