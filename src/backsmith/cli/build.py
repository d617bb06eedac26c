"""`backsmith build`: every step from contract to hand-over, ending in a Definition-of-Done
report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backsmith.cli.arguments import add_contract
from backsmith.cli.service_options import number, whole

NAME = "build"
HELP = "check, draft, migrate, serve, test, bench, diff and document: a Definition-of-Done report"
DESCRIPTION = (
    "Check the contract (drafting a prose spec first), plan its migrations and run them up, "
    "down and up again on a scratch database, serve it and run the contract tests, measure "
    "each operation against its budgets, compare with the last released contract, write the "
    "service's README, and report item by item whether the backend is done (Markdown, JSON "
    "and HTML in --out). Exit 0 only when every required item holds."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract(parser)
    parser.add_argument("--out", metavar="DIR", default="build-report", help="(build-report)")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="a PostgreSQL server to make the scratch databases on (default: SQLite files)",
    )
    parser.add_argument(
        "--migrations", metavar="DIR", help="migrations folder (default: beside the contract)"
    )
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="the last released contract (default: the contract at the newest git tag)",
    )
    parser.add_argument(
        "--bench-seconds", metavar="S", default="1", help="measured per operation (1)"
    )
    parser.add_argument(
        "--examples", metavar="N", default="10", help="generated requests per operation (10)"
    )


def run(args: argparse.Namespace) -> int:
    from backsmith import api
    from backsmith.verify.done.options import BuildOptions

    options = BuildOptions(
        args.contract,
        args.dbml,
        out=Path(args.out),
        database_url=args.database_url,
        migrations=args.migrations,
        baseline=args.baseline,
        bench_seconds=number("--bench-seconds", args.bench_seconds),
        examples=whole("--examples", args.examples),
    )
    report = api.build(options, progress=sys.stderr)
    width = max(len(item.title) for item in report.items)
    for item in report.items:
        print(f"{item.status:5} {item.title.ljust(width)}  {item.evidence}")
    print(report.verdict())
    print(f"report: {report.files.get('done.md', '')} (also .json, .html)")
    return report.exit_code
