"""The command line: parse arguments, call the public API, print, pick the exit code.

Exit codes: 0 success, 1 the database or the server refused, 2 the contract (or another
input file: migrations, fixtures) is unusable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from backsmith import __version__
from backsmith.errors import BacksmithError, ContractError, InputError

EXIT_CONTRACT = 2
EXIT_STARTUP = 1


def _contract_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("contract", help="OpenAPI 3.x file (YAML/JSON) or Markdown spec")
    parser.add_argument("--dbml", metavar="FILE", help="DBML model beside a YAML/JSON contract")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backsmith",
        description="Serve a production backend from an OpenAPI contract and a DBML model.",
        epilog="Run 'backsmith COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"backsmith {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check",
        help="read and validate the contract",
        description="Read, validate and map the "
        "contract; print errors with file, line and JSON pointer, and DBML/OpenAPI mismatches.",
    )
    _contract_args(check)

    model = commands.add_parser(
        "model",
        help="show how each operation was understood",
        description="Print each operation's kind, resource and table, and what is not CRUD.",
    )
    _contract_args(model)
    model.add_argument("--json", action="store_true", help="print the mapping as JSON")

    serve = commands.add_parser(
        "serve",
        help="serve the backend",
        description="Serve every operation of the contract. SQLite at ./backsmith.db by default.",
    )
    _contract_args(serve)
    serve.add_argument(
        "--database-url",
        help="sqlite:///file.db or postgresql://... "
        "(default: $BACKSMITH_DATABASE_URL or sqlite:///backsmith.db)",
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.add_argument(
        "--create-tables",
        action="store_true",
        default=None,
        help="create missing tables on PostgreSQL (SQLite always does)",
    )
    serve.add_argument("--migrations", metavar="DIR", help=_MIGRATIONS_HELP)
    serve.add_argument(
        "--production",
        action="store_const",
        const="production",
        dest="env",
        help="refuse open writes, missing keys and weak secrets (as BACKSMITH_ENV=production)",
    )
    _migrate_parsers(commands)
    from backsmith.key_commands import add_parsers

    add_parsers(commands, _contract_args)
    return parser


_MIGRATIONS_HELP = "folder of migration files (default: migrations/ beside the contract)"


def _migrate_parsers(commands: Any) -> None:
    migrate = commands.add_parser(
        "migrate",
        help="plan, apply and roll back migrations",
        description="Migrations from contract changes, as Alembic revision files.",
    )
    actions = migrate.add_subparsers(dest="action", metavar="ACTION", required=True)
    described = {
        "plan": "write the next migration: the contract's difference from the last one",
        "up": "apply pending migrations (all, or up to --to REV)",
        "down": "roll back one migration (or down to --to REV; 'base' for all)",
        "status": "applied and pending migrations, and whether the database matches",
        "check": "exit 1 when the database differs from the contract, listing each difference",
        "adopt": "record a database that already matches the contract as the last revision",
    }
    for action, text in described.items():
        sub = actions.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        sub.add_argument(
            "contract",
            nargs="?",
            default=os.environ.get("BACKSMITH_CONTRACT"),
            help="OpenAPI file or Markdown spec (default: $BACKSMITH_CONTRACT)",
        )
        sub.add_argument("--dbml", metavar="FILE", help="DBML model beside a YAML/JSON contract")
        sub.add_argument("--migrations", metavar="DIR", help=_MIGRATIONS_HELP)
        if action == "plan":
            sub.add_argument("-m", "--message", required=True, help="what the change does")
            sub.add_argument(
                "--allow-destructive",
                action="store_true",
                help="plan steps that drop data or fail on existing rows",
            )
        else:
            sub.add_argument("--database-url", help="the database (default: as serve)")
        if action in ("up", "down"):
            sub.add_argument("--to", metavar="REV", help="target revision")

    seed = commands.add_parser(
        "seed",
        help="load fixtures or generated rows",
        description="Load fixtures (YAML or JSON per resource) and/or N generated rows per "
        "resource, idempotently.",
    )
    _contract_args(seed)
    seed.add_argument("--database-url", help="the database (default: as serve)")
    seed.add_argument("--fixtures", metavar="DIR", help="folder of <resource>.yaml|json files")
    seed.add_argument("--fake", metavar="N", type=int, help="generate N valid rows per resource")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return cmd_check(args)
        if args.command == "model":
            return cmd_model(args)
        if args.command == "migrate":
            from backsmith.migrate_commands import cmd_migrate

            return cmd_migrate(args)
        if args.command == "seed":
            from backsmith.migrate_commands import cmd_seed

            return cmd_seed(args)
        if args.command == "keys":
            from backsmith.key_commands import cmd_keys

            return cmd_keys(args)
        return cmd_serve(args)
    except ContractError as error:
        for issue in error.issues:
            print(issue.render(), file=sys.stderr)
        return EXIT_CONTRACT
    except InputError as error:
        print(f"backsmith: {error}", file=sys.stderr)
        return EXIT_CONTRACT
    except BacksmithError as error:
        print(f"backsmith: {error}", file=sys.stderr)
        return EXIT_STARTUP
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        return 130


def cmd_check(args: argparse.Namespace) -> int:
    from backsmith.api import load_model
    from backsmith.model.types import Kind

    model = load_model(args.contract, args.dbml)
    for warning in model.warnings:
        print(warning, file=sys.stderr)
    crud = [op for op in model.operations if op.kind != Kind.CUSTOM]
    custom = [op for op in model.operations if op.kind == Kind.CUSTOM]
    print(
        f"{args.contract}: OpenAPI {model.openapi_version}, "
        f"{_count(len(model.operations), 'operation')} ({len(crud)} CRUD, "
        f"{len(custom)} {'needs' if len(custom) == 1 else 'need'} a handler), "
        f"{_count(len(model.resources), 'resource')}, {_count(len(model.warnings), 'warning')}"
    )
    for op in custom:
        print(f"  needs a handler: {op.operation_id} ({op.method} {op.path}): {op.reason}")
    return 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def cmd_model(args: argparse.Namespace) -> int:
    from backsmith.api import load_model
    from backsmith.verify.describe import describe, render_table

    model = load_model(args.contract, args.dbml)
    if args.json:
        print(json.dumps(describe(model), indent=2))
    else:
        print(render_table(model))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from backsmith.api import load_model
    from backsmith.http.factory import CONTRACT_ENV, DBML_ENV
    from backsmith.settings import load_settings

    model = load_model(args.contract, args.dbml)  # fail fast, with exit code 2
    settings = load_settings(
        model.options,
        database_url=args.database_url,
        host=args.host,
        port=args.port,
        workers=args.workers,
        create_tables=args.create_tables,
        migrations=args.migrations,
        env=args.env,
    )
    from backsmith.http.app import create_app
    from backsmith.logs import log_to_stderr

    log_to_stderr(settings.log_level)  # what the preflight does (migrations applied) is logged
    app = create_app(model, settings)  # compiles every plan: refuses an unsafe production start
    revision = asyncio.run(_preflight(model, settings))
    env: dict[str, Any] = {CONTRACT_ENV: os.path.abspath(args.contract)}
    env[DBML_ENV] = os.path.abspath(args.dbml) if args.dbml else ""
    env.update(settings.environment())  # the workers read their settings from here
    os.environ.update(env)
    if settings.workers == 1:  # one process: serve the model already loaded, not a second copy
        target: Any = app
        target.tables_ready = True  # the preflight above prepared them
        target.schema_revision = revision
    else:
        target = "backsmith.http.factory:from_environment"
    uvicorn.run(
        target,
        factory=settings.workers != 1,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        access_log=False,
        server_header=False,  # the server's name and version are not told (OWASP API8)
        http="backsmith.http.server:ProblemHTTPProtocol",  # unparsable requests: problem+json
    )
    return 0


async def _preflight(model: Any, settings: Any) -> str | None:
    """Open the database and prepare tables before the server starts, for a clear error."""
    from backsmith.storage.schema import prepare_database
    from backsmith.storage.tables import build_metadata

    return await prepare_database(build_metadata(model), settings, model=model)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
