"""`backsmith migrate ...` and `backsmith seed`: the command-line side of migrations and seeds.

Exit codes as the rest of the CLI: 0 done, 1 the database refused or differs (check), 2 the
contract, the migrations or the fixtures are unusable.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from backsmith.errors import ContractError, Issue
from backsmith.model.types import Model
from backsmith.settings import Settings, load_settings
from backsmith.storage.migrations import project
from backsmith.storage.migrations.folder import MigrationsFolder

EXIT_DIFFERS = 1


def _load(args: argparse.Namespace) -> tuple[Model, Settings, MigrationsFolder]:
    from backsmith.api import load_model

    if not args.contract:
        message = "name the contract (or set BACKSMITH_CONTRACT)"
        raise ContractError([Issue(message, file="<command line>")])
    model = load_model(args.contract, args.dbml)
    settings = load_settings(
        model.options,
        database_url=getattr(args, "database_url", None),
        migrations=args.migrations,
    )
    return model, settings, project.migrations_folder(model, settings)


def cmd_migrate(args: argparse.Namespace) -> int:
    model, settings, folder = _load(args)
    url = settings.database_url
    if args.action == "plan":
        planned = project.plan_next(model, folder, args.message, args.allow_destructive)
        if not planned.paths:
            print("nothing to plan: the migrations already describe the contract")
            return 0
        for path in planned.paths:
            print(f"wrote {path}")
        for step in planned.steps:
            print(f"  {step}")
        for risk in planned.risks:
            print(f"  risk: {risk}")
        return 0
    if args.action in ("up", "down"):
        if args.action == "up":
            outcome = asyncio.run(project.upgrade(url, folder, args.to or "head"))
        else:
            outcome = asyncio.run(project.downgrade(url, folder, args.to or "-1"))
        for step in outcome.steps:
            print(step)
        if not outcome.steps:
            print("nothing to do")
        print(f"database at revision {outcome.revision or 'none (base)'}")
        return 0
    if args.action == "adopt":
        revision = asyncio.run(project.adopt(url, folder, model))
        print(f"database recorded at revision {revision}")
        return 0
    status = asyncio.run(project.status(url, folder, model))
    if args.action == "status":
        _print_status(status, folder)
        return 0
    for difference in status.differences:
        print(difference)
    if status.pending:
        print(f"{len(status.pending)} pending migration(s); 'backsmith migrate up' applies them")
    if status.differences:
        print(
            f"the database differs from the contract in {len(status.differences)} way(s)",
            file=sys.stderr,
        )
        return EXIT_DIFFERS
    print("the database matches the contract")
    return 0


def _print_status(status: project.Status, folder: MigrationsFolder) -> None:
    adoptable = not status.managed and status.matches and status.head is not None
    if status.managed:
        print(f"revision: {status.revision or 'none (base)'} (head: {status.head or 'none'})")
    else:
        print(f"revision: none, no migration recorded (head: {status.head or 'none'})")
    if not adoptable:
        for revision in status.pending:
            print(f"pending: {revision.id} {revision.message}")
    if status.matches:
        print("schema: matches the contract")
        if adoptable:
            print(f"  'backsmith migrate adopt' records it as revision {status.head}")
    else:
        print("schema: differs from the contract")
        for difference in status.differences:
            print(f"  {difference}")
    print(f"migrations: {folder.path}")


def cmd_seed(args: argparse.Namespace) -> int:
    from backsmith.storage.seed import seed_database

    model, settings, _ = _load(argparse.Namespace(**{**vars(args), "migrations": None}))
    report = asyncio.run(
        seed_database(model, settings.database_url, fixtures=args.fixtures, fake=args.fake or 0)
    )
    for line in report:
        print(line)
    return 0
