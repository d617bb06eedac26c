"""`backsmith relay`: deliver events and run scheduled jobs in a process of its own."""

from __future__ import annotations

import argparse

from backsmith.cli.arguments import add_contract, add_setting_flags, setting_flags

NAME = "relay"
HELP = "deliver events and run scheduled jobs, without serving requests"
DESCRIPTION = (
    "Deliver the outbox's events to the webhooks and brokers configured, and run the "
    "contract's scheduled jobs, until stopped. Run it beside `serve` with "
    "BACKSMITH_RELAY=false, or as many as you like: they never deliver one event at once."
)
FLAGS = ("database_url", "pool_size")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract(parser)
    add_setting_flags(parser, *FLAGS)


def run(args: argparse.Namespace) -> int:
    from backsmith import api

    api.relay(args.contract, args.dbml, **setting_flags(args, *FLAGS))
    return 0
