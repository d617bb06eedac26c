"""`backsmith init`: start a project from a template or from the team's own spec."""

from __future__ import annotations

import argparse
import sys

NAME = "init"
HELP = "start a project: a contract to edit, its DBML, a hooks module, settings and a README"
DESCRIPTION = (
    "Write a new project into DIR: docs/api-spec.md (the contract to edit), its DBML, a hooks "
    "module, .env.example (every setting), .gitignore and a README. The template is 'blank' "
    "(one resource, commented), 'bookshop' (the example shop), or the path of the team's own "
    "spec: OpenAPI YAML or JSON, Markdown with an OpenAPI block, or prose (drafted). A file "
    "that would be overwritten stops it, unless --force."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", default=".", help="the project's folder (default: .)")
    parser.add_argument(
        "--template",
        default="blank",
        metavar="bookshop|blank|SPEC",
        help="what the contract starts from (default: blank)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite files that exist")


def run(args: argparse.Namespace) -> int:
    from backsmith import api

    project = api.init(args.dir, args.template, force=args.force)
    print(f"wrote {', '.join(project.files)} in {args.dir}", file=sys.stderr)
    print(
        f"{project.model.title}: {len(project.model.operations)} operations. Next, in {args.dir}:"
    )
    print("  backsmith serve docs/api-spec.md   # the backend")
    print("  backsmith build docs/api-spec.md   # and whether it is done")
    return 0
