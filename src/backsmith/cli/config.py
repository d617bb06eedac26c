"""`backsmith config`: each setting's effective value and where it came from; the README table."""

from __future__ import annotations

import argparse

from backsmith.cli.arguments import add_setting_flags, setting_flags
from backsmith.settings import SETTINGS
from backsmith.settings.markdown import settings_table

NAME = "config"
HELP = "show each setting's value and where it came from"
DESCRIPTION = (
    "Print every setting's effective value and its source (default, contract, environment "
    "or flag), secrets masked. Given a contract, its root x-backsmith settings count too."
)
FLAGGED = tuple(s.name for s in SETTINGS if s.flag)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("contract", nargs="?", help="OpenAPI file or Markdown spec (optional)")
    parser.add_argument("--dbml", metavar="FILE", help="DBML model beside a YAML/JSON contract")
    add_setting_flags(parser, *FLAGGED)
    parser.add_argument(
        "--markdown", action="store_true", help="print the declared settings as a Markdown table"
    )


def run(args: argparse.Namespace) -> int:
    if args.markdown:
        print(settings_table())
        return 0
    from backsmith import api

    resolved = api.config(args.contract, args.dbml, **setting_flags(args, *FLAGGED))
    rows = [("SETTING", "VALUE", "FROM", "VARIABLE")]
    rows += [(r.setting.name, r.setting.shown(r.value), r.source, r.setting.env) for r in resolved]
    widths = [max(len(row[i]) for row in rows) for i in range(3)] + [0]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0
