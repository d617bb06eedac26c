"""`backsmith events list|retry|replay`: the outbox's events and their deliveries."""

from __future__ import annotations

import argparse

from backsmith.cli.arguments import add_contract, add_setting_flags, setting_flags

NAME = "events"
HELP = "list events and their deliveries; retry dead ones; replay any"
DESCRIPTION = "The events in the outbox, one line per event and target, newest first."
STATUSES = ("pending", "delivered", "dead")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listed = actions.add_parser("list", help="the latest events, newest first")
    listed.add_argument("--status", choices=STATUSES, help="only events in this state")
    listed.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    retry = actions.add_parser("retry", help="dead-lettered events go out again")
    retry.add_argument("event_ids", nargs="*", metavar="ID", help="only these (default: all)")
    replay = actions.add_parser("replay", help="events delivered again, under the same ids")
    replay.add_argument("event_ids", nargs="+", metavar="ID", help="the events' ids")
    replay.add_argument("--target", help="to this webhook or broker only")
    for sub in (listed, retry, replay):
        add_contract(sub)
        add_setting_flags(sub, "database_url")


def run(args: argparse.Namespace) -> int:
    from backsmith import api
    from backsmith.events.ledger import LedgerUnavailable

    options: dict[str, object] = {}
    if args.action == "list":
        options = {"status": args.status, "limit": args.limit}
    elif args.action == "retry":
        options = {"event_ids": args.event_ids}
    else:
        options = {"event_ids": args.event_ids, "target": args.target}
    try:
        result = api.events(
            args.action, args.contract, args.dbml, **options, **setting_flags(args, "database_url")
        )
    except LedgerUnavailable as error:
        print(f"backsmith: {error}")
        return 1
    if isinstance(result, int):
        print(f"{result} deliver{'y' if result == 1 else 'ies'} pending again")
        return 0
    for row in result:
        why = f"  {row['last_error']}" if row["last_error"] else ""
        print(
            f"{row['occurred_at']:%Y-%m-%d %H:%M:%S}  {row['event_id']}  {row['type']}  "
            f"{row['resource'] or '-'}/{row['resource_key'] or '-'}  {row['target']}  "
            f"{row['status']} after {row['attempts']}{why}"
        )
    return 0
