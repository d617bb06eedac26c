"""`backsmith docs`: the service's README, for whoever runs it next."""

from __future__ import annotations

import argparse
import sys

from backsmith.cli.arguments import add_contract

NAME = "docs"
HELP = "write the service's README: what it serves, how to run it, its settings and results"
DESCRIPTION = (
    "Write the README of the service a contract describes: what it serves, setup and run "
    "commands, every setting with its default, the operations table, migrations and "
    "rollback, seed data, health, metrics, logs and traces, deployment, and the latest test "
    "and bench results when present. The same contract and results give the same file."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract(parser)
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="where to write it (default: SERVICE.md beside the contract; '-' for stdout)",
    )
    parser.add_argument(
        "--results",
        metavar="DIR",
        default=".",
        help="where `backsmith test` and `backsmith bench` ran: test-results.json (or "
        "test-results/test-results.json) and bench-results/*/results.json (default: .)",
    )


def run(args: argparse.Namespace) -> int:
    from backsmith import api
    from backsmith.verify.service_docs import default_output

    if args.output == "-":
        sys.stdout.write(api.docs(args.contract, args.dbml, results=args.results))
        return 0
    output = args.output or default_output(args.contract)
    api.docs(args.contract, args.dbml, results=args.results, output=output)
    print(f"wrote {output}", file=sys.stderr)
    return 0
