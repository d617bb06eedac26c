"""`backsmith draft`: a prose Markdown API spec drafted into a contract to review and keep."""

from __future__ import annotations

import argparse
import sys

NAME = "draft"
HELP = "draft an OpenAPI contract and a DBML model from a prose Markdown spec"
DESCRIPTION = (
    "Read a prose API spec (endpoints as headings, lines, code blocks, curl commands or "
    "tables, with JSON examples and field tables) and write an OpenAPI 3.1 contract, a DBML "
    "model beside it and a report of where each part came from and what was guessed."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="the Markdown spec, e.g. docs/api-spec.md")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default="openapi.yaml",
        help="the contract to write (default openapi.yaml); its report is FILE's name "
        "with .report.md",
    )
    parser.add_argument(
        "--dbml", metavar="FILE", help="the DBML model to write (default schema.dbml beside it)"
    )


def run(args: argparse.Namespace) -> int:
    from backsmith import api

    written = api.draft(args.spec, args.output, args.dbml)
    draft = written.draft
    print(
        f"{args.spec}: {len(draft.endpoints)} endpoints, {len(draft.resources)} resources, "
        f"{draft.guesses} guesses, {len(draft.skipped)} skipped",
        file=sys.stderr,
    )
    print(f"wrote {written.contract}, {written.dbml} and {written.report}", file=sys.stderr)
    return 0
