"""`backsmith keys create|list|revoke`: the API keys a contract's apiKey scheme accepts.

A new key is printed once, whole; the database keeps only its hash. Exit codes as the rest
of the CLI: 0 done, 1 the database has no keys table or no such key, 2 the contract.
"""

from __future__ import annotations

import argparse
from typing import Any

# The parsers are built on every start: SQLAlchemy is imported only when a key is handled.


def add_parsers(commands: Any, contract_args: Any) -> None:
    keys = commands.add_parser(
        "keys",
        help="create, list and revoke API keys",
        description="API keys for the contract's apiKey schemes, stored hashed.",
    )
    actions = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="make a key and print it once")
    contract_args(create)
    create.add_argument("--subject", required=True, help="who the key acts as (the caller's sub)")
    create.add_argument("--roles", default="", help="its roles, comma-separated")
    create.add_argument("--name", help="what the key is for")
    listed = actions.add_parser("list", help="every key: id, subject, roles, when made, revoked")
    contract_args(listed)
    revoke = actions.add_parser("revoke", help="stop a key from working (within a second)")
    contract_args(revoke)
    revoke.add_argument("key_id", metavar="ID", help="the key's id, as list shows it")
    for sub in (create, listed, revoke):
        sub.add_argument("--database-url", help="the database (default: as serve)")


def cmd_keys(args: argparse.Namespace) -> int:
    import asyncio

    from backsmith.api import load_model
    from backsmith.settings import load_settings
    from backsmith.storage import api_keys
    from backsmith.storage.migrations.runner import on_connection

    model = load_model(args.contract, args.dbml)
    settings = load_settings(model.options, database_url=args.database_url)

    def work(conn: Any) -> int:
        code = _run(args, conn)
        conn.commit()
        return code

    try:
        return asyncio.run(on_connection(settings.database_url, work))
    except api_keys.KeysUnavailable as error:
        print(f"backsmith: {error}")
        return 1


def _run(args: argparse.Namespace, conn: Any) -> int:
    from backsmith.settings import names
    from backsmith.storage import api_keys

    if args.action == "create":
        roles = tuple(sorted(names(args.roles)))
        key = api_keys.create_key(conn, args.subject, roles, args.name)
        print(key)
        print("(shown once: the database keeps only its hash)")
        return 0
    if args.action == "list":
        for stored in api_keys.list_keys(conn):
            state = f"revoked {stored.revoked_at:%Y-%m-%d %H:%M}" if stored.revoked_at else "active"
            roles = ",".join(stored.roles) or "-"
            print(
                f"{stored.id}  {stored.subject}  roles={roles}  {stored.name or ''}  "
                f"created {stored.created_at:%Y-%m-%d %H:%M}  {state}"
            )
        return 0
    if api_keys.revoke_key(conn, args.key_id):
        print(f"revoked {args.key_id}")
        return 0
    print(f"backsmith: no active key {args.key_id}")
    return 1
