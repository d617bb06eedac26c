"""`backsmith serve`: serve every operation of a contract."""

from __future__ import annotations

import argparse

from backsmith.cli.arguments import add_contract, add_setting_flags, setting_flags

NAME = "serve"
HELP = "serve the backend"
DESCRIPTION = "Serve every operation of the contract. SQLite at ./backsmith.db by default."
FLAGS = (
    "database_url",
    "host",
    "port",
    "workers",
    "pool_size",
    "trusted_proxies",
    "create_tables",
    "migrations",
    "env",
    "log_level",
    "log_format",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract(parser)
    add_setting_flags(parser, *FLAGS)


def run(args: argparse.Namespace) -> int:
    from backsmith import api

    api.serve(args.contract, args.dbml, **setting_flags(args, *FLAGS))
    return 0
