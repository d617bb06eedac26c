"""`backsmith migrate plan|up|down|status|check|adopt`: migrations from contract changes."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from backsmith.cli.arguments import add_contract, add_setting_flags, setting_flags

NAME = "migrate"
HELP = "plan, apply and roll back migrations"
DESCRIPTION = "Migrations from contract changes, as Alembic revision files."
ACTIONS = {
    "plan": "write the next migration: the contract's difference from the last one",
    "up": "apply pending migrations (all, or up to --to REV)",
    "down": "roll back one migration (or down to --to REV; 'base' for all)",
    "status": "applied and pending migrations, and whether the database matches",
    "check": "exit 1 when the database differs from the contract, listing each difference",
    "adopt": "record a database that already matches the contract as the last revision",
}
EXIT_DIFFERS = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in ACTIONS.items():
        sub = actions.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        add_contract(sub, optional=True)
        add_setting_flags(sub, "migrations")
        if action == "plan":
            sub.add_argument("-m", "--message", required=True, help="what the change does")
            sub.add_argument(
                "--allow-destructive",
                action="store_true",
                help="plan steps that drop data or fail on existing rows",
            )
        else:
            add_setting_flags(sub, "database_url")
        if action in ("up", "down"):
            sub.add_argument("--to", metavar="REV", help="target revision")


def run(args: argparse.Namespace) -> int:
    from backsmith import api

    flags = setting_flags(args, "migrations", "database_url")
    if args.action == "plan":  # said first: a refused plan comes from the same change
        _say_if_breaking(args.contract, args.dbml)
    outcome = api.migrate(
        args.action,
        args.contract,
        args.dbml,
        message=getattr(args, "message", ""),
        allow_destructive=getattr(args, "allow_destructive", False),
        to=getattr(args, "to", None),
        **flags,
    )
    if args.action == "plan":
        if not outcome.paths:
            print("nothing to plan: the migrations already describe the contract")
            return 0
        for path in outcome.paths:
            print(f"wrote {path}")
        for step in outcome.steps:
            print(f"  {step}")
        for risk in outcome.risks:
            print(f"  risk: {risk}")
        return 0
    if args.action in ("up", "down"):
        for step in outcome.steps:
            print(step)
        if not outcome.steps:
            print("nothing to do")
        print(f"database at revision {outcome.revision or 'none (base)'}")
        return 0
    if args.action == "adopt":
        print(f"database recorded at revision {outcome}")
        return 0
    if args.action == "status":
        _print_status(outcome, api.migrations_folder(args.contract, args.dbml, **flags))
        return 0
    return _print_check(outcome)


def _print_check(status: Any) -> int:
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


def _print_status(status: Any, folder: Any) -> None:
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
    print(f"migrations: {folder}")


def _say_if_breaking(contract: str | None, dbml: str | None) -> None:
    """One line on stderr when the contract's change since the last commit breaks its
    clients (the change this plan comes from); silent outside git or with no change."""
    from backsmith import api
    from backsmith.errors import BacksmithError
    from backsmith.settings import setting
    from backsmith.verify.diff import Level

    contract = contract or os.environ.get(setting("contract").env)
    if not contract:
        return
    try:
        api.load_model(contract, dbml)
    except BacksmithError:
        return  # the plan itself says what is wrong with the contract
    try:
        report = api.breaking_since(contract, dbml)
    except BacksmithError as error:  # the committed contract is unreadable: say so, go on
        print(f"the contract at HEAD cannot be compared: {error}", file=sys.stderr)
        return
    breaking = [c for c in report.changes if c.level == Level.BREAKING] if report else []
    if report is None or not breaking:
        return
    rules = sorted({change.rule for change in breaking})
    shown = ", ".join(rules[:4]) + (", ..." if len(rules) > 4 else "")
    announced = "; info.version's major was raised" if report.major_raised else ""
    print(
        f"this contract change breaks clients of the contract at HEAD: {len(breaking)} "
        f"breaking change(s) ({shown}){announced}; `backsmith diff` lists them",
        file=sys.stderr,
    )
