"""`backsmith keys create|list|revoke`: the API keys a contract's apiKey scheme accepts.

A new key is printed once, whole; the database keeps only its hash. Exit code 1: the
database has no keys table, or no such key.
"""

from __future__ import annotations

import argparse

from backsmith.cli.arguments import add_contract, add_setting_flags, setting_flags

NAME = "keys"
HELP = "create, list and revoke API keys"
DESCRIPTION = "API keys for the contract's apiKey schemes, stored hashed."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="make a key and print it once")
    add_contract(create)
    create.add_argument("--subject", required=True, help="who the key acts as (the caller's sub)")
    create.add_argument("--roles", default="", help="its roles, comma-separated")
    create.add_argument("--name", help="what the key is for")
    listed = actions.add_parser("list", help="every key: id, subject, roles, when made, revoked")
    add_contract(listed)
    revoke = actions.add_parser("revoke", help="stop a key from working (within a second)")
    add_contract(revoke)
    revoke.add_argument("key_id", metavar="ID", help="the key's id, as list shows it")
    for sub in (create, listed, revoke):
        add_setting_flags(sub, "database_url")


def run(args: argparse.Namespace) -> int:
    from backsmith import api
    from backsmith.settings import names
    from backsmith.storage.api_keys import KeysUnavailable

    try:
        result = api.keys(
            args.action,
            args.contract,
            args.dbml,
            subject=getattr(args, "subject", ""),
            roles=tuple(sorted(names(getattr(args, "roles", "")))),
            name=getattr(args, "name", None),
            key_id=getattr(args, "key_id", ""),
            **setting_flags(args, "database_url"),
        )
    except KeysUnavailable as error:
        print(f"backsmith: {error}")
        return 1
    if args.action == "create":
        print(result)
        print("(shown once: the database keeps only its hash)")
        return 0
    if args.action == "list":
        assert isinstance(result, list)
        for stored in result:
            state = f"revoked {stored.revoked_at:%Y-%m-%d %H:%M}" if stored.revoked_at else "active"
            roles = ",".join(stored.roles) or "-"
            print(
                f"{stored.id}  {stored.subject}  roles={roles}  {stored.name or ''}  "
                f"created {stored.created_at:%Y-%m-%d %H:%M}  {state}"
            )
        return 0
    if result:
        print(f"revoked {args.key_id}")
        return 0
    print(f"backsmith: no active key {args.key_id}")
    return 1
