"""`backsmith seed`: load fixtures or generated rows into a database."""

from __future__ import annotations

import argparse

from backsmith.cli.arguments import add_contract, add_setting_flags, setting_flags

NAME = "seed"
HELP = "load fixtures or generated rows"
DESCRIPTION = (
    "Load fixtures (YAML or JSON per resource) and/or N generated rows per resource, idempotently."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract(parser)
    add_setting_flags(parser, "database_url")
    parser.add_argument("--fixtures", metavar="DIR", help="folder of <resource>.yaml|json files")
    parser.add_argument("--fake", metavar="N", type=int, help="generate N valid rows per resource")


def run(args: argparse.Namespace) -> int:
    from backsmith import api

    report = api.seed(
        args.contract,
        args.dbml,
        fixtures=args.fixtures,
        fake=args.fake or 0,
        **setting_flags(args, "database_url"),
    )
    for line in report:
        print(line)
    return 0
