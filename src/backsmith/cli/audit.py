"""`backsmith audit RESOURCE [ID]`: who changed which rows, when, through what, from what."""

from __future__ import annotations

import argparse

from backsmith.cli.arguments import add_setting_flags, setting_flags

NAME = "audit"
HELP = "the recorded changes of an audited resource's rows"
DESCRIPTION = (
    "Every change of the rows of a resource its schema audits (x-backsmith: {audit: true}), "
    "oldest first: when, the action, who, through which operation, the values before and after."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("contract", help="OpenAPI 3.x file (YAML/JSON) or Markdown spec")
    parser.add_argument("resource", metavar="RESOURCE", help="a resource, table or schema name")
    parser.add_argument("key", metavar="ID", nargs="?", help="one row's key")
    parser.add_argument("--dbml", metavar="FILE", help="DBML model beside a YAML/JSON contract")
    add_setting_flags(parser, "database_url")


def run(args: argparse.Namespace) -> int:
    from backsmith import api
    from backsmith.events.ledger import LedgerUnavailable

    try:
        rows = api.audit(
            args.contract, args.resource, args.key, args.dbml, **setting_flags(args, "database_url")
        )
    except LedgerUnavailable as error:
        print(f"backsmith: {error}")
        return 1
    for row in rows:
        print(
            f"{row['at']:%Y-%m-%d %H:%M:%S}  {row['resource']}/{row['resource_key']}  "
            f"{row['action']}  by {row['subject'] or 'anonymous'}  "
            f"via {row['operation'] or '-'}\n  before: {row['before'] or '-'}\n"
            f"  after:  {row['after'] or '-'}"
        )
    return 0
