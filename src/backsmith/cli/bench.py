"""`backsmith bench`: measure every operation against the contract's latency budgets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backsmith import api
from backsmith.cli.arguments import add_contract
from backsmith.cli.service_options import add_target, number, whole

NAME = "bench"
HELP = "measure each operation against its latency budget"
DESCRIPTION = (
    "Start the service on a scratch database (or target --url), seed it, load each operation "
    "with valid requests, and report p50/p95/p99 against the contract's slo budgets. "
    "Exit 1 when a budget is missed or the service logged an unhandled exception."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract(parser)
    target = add_target(parser)
    target.add_argument("--rows", metavar="N", default="200", help="rows seeded per resource (200)")
    chosen = parser.add_argument_group("operations")
    chosen.add_argument("--ops", metavar="A,B", help="only these operationIds")
    chosen.add_argument(
        "--mix", metavar="KIND=W,...", help="one mixed run, e.g. read=80,list=15,create=5"
    )
    chosen.add_argument("--include-deletes", action="store_true", help="measure DELETEs too")
    load = parser.add_argument_group("load")
    load.add_argument("--connections", metavar="N", default="16", help="connections (16)")
    load.add_argument("--duration", metavar="S", default="3", help="seconds per operation (3)")
    load.add_argument("--warmup", metavar="S", default="1", help="warm-up seconds (1)")
    load.add_argument("--rate", metavar="R", help="open loop: R requests per second")
    load.add_argument(
        "--generator",
        default="auto",
        metavar="NAME",
        help="auto (wrk when on PATH, else built-in), builtin or wrk",
    )
    parser.add_argument("--out", metavar="DIR", help="where files go (bench-results/<time>/)")


def run(args: argparse.Namespace) -> int:
    from backsmith.bench.options import BenchOptions, parse_mix, parse_ops
    from backsmith.bench.report import table

    # Numbers are parsed here, not by argparse, so a bad one is one line and exit 2.
    options = BenchOptions(
        contract=args.contract,
        dbml=args.dbml,
        url=args.url,
        database_url=args.database_url,
        jwt_secret=args.jwt_secret,
        rows=whole("--rows", args.rows),
        ops=parse_ops(args.ops),
        mix=parse_mix(args.mix),
        connections=whole("--connections", args.connections),
        duration=number("--duration", args.duration),
        warmup=number("--warmup", args.warmup),
        rate=number("--rate", args.rate) if args.rate is not None else None,
        include_deletes=args.include_deletes,
        out=Path(args.out) if args.out else None,
        generator=args.generator,
    )
    report = api.bench(options, progress=sys.stderr)
    print(table(report))
    print(f"files: {report.out}/results.json, latency.png, report.html")
    return report.exit_code
