"""`backsmith convert`: a Swagger 2.0 contract written out as the OpenAPI 3.0 it is read as."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backsmith.contract.writing import render
from backsmith.errors import InputError

NAME = "convert"
HELP = "write a Swagger 2.0 contract as OpenAPI 3.0"
DESCRIPTION = (
    "Convert a Swagger 2.0 contract to the OpenAPI 3.0 document check, model and serve read "
    "it as, with the files its $refs name bundled in: YAML, or JSON when the output file "
    "ends in .json. An OpenAPI 3 contract has nothing to convert (exit code 2)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("contract", help="Swagger 2.0 file (YAML/JSON) or Markdown spec")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write here instead of to standard output"
    )


def run(args: argparse.Namespace) -> int:
    from backsmith import api

    document = api.convert(args.contract)
    output = Path(args.output) if args.output else None
    text = render(document, as_json=output is not None and output.suffix.lower() == ".json")
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"{args.contract}: Swagger 2.0 converted to OpenAPI 3.0 in {output}", file=sys.stderr)
    return 0
