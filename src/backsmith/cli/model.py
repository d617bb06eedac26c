"""`backsmith model`: how each operation of a contract was understood."""

from __future__ import annotations

import argparse
import json

from backsmith.cli.arguments import add_contract

NAME = "model"
HELP = "show how each operation was understood"
DESCRIPTION = "Print each operation's kind, resource and table, and what is not CRUD."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract(parser)
    parser.add_argument("--json", action="store_true", help="print the mapping as JSON")


def run(args: argparse.Namespace) -> int:
    from backsmith import api

    described = api.model(args.contract, args.dbml)
    print(json.dumps(described.data, indent=2) if args.json else described.table)
    return 0
