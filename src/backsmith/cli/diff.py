"""`backsmith diff OLD NEW`: what a contract change breaks for the clients of the old one."""

from __future__ import annotations

import argparse

NAME = "diff"
HELP = "list what a contract change breaks for existing clients"
DESCRIPTION = (
    "Compare two versions of a contract (OpenAPI YAML/JSON, Swagger 2.0, or a Markdown "
    "spec) and list every change with its rule id, level (breaking, warning, info), "
    "operation and place, breaking first. Exit 1 on a breaking change, unless info.version's "
    "major number was raised."
)
EXIT_BREAKING = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", help="the contract clients use now")
    parser.add_argument("new", help="the contract to compare with it")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    parser.add_argument("--dbml-old", metavar="FILE", help="DBML model beside the old contract")
    parser.add_argument("--dbml-new", metavar="FILE", help="DBML model beside the new contract")


def run(args: argparse.Namespace) -> int:
    from backsmith import api
    from backsmith.verify.diff.render import render_json, render_text

    report = api.diff(args.old, args.new, args.dbml_old, args.dbml_new)
    render = render_json if args.format == "json" else render_text
    print(render(report), end="")
    return EXIT_BREAKING if report.refused else 0
