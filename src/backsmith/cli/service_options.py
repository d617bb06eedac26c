"""Options the commands that run against a service share (`bench`, `test`, `build`): where
the service is, and numbers parsed so that a bad one is one line and exit 2."""

from __future__ import annotations

import argparse

from backsmith.errors import InputError


def add_target(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The `target` group: --url, --database-url, --jwt-secret; returned for more."""
    target = parser.add_argument_group("target")
    target.add_argument("--url", metavar="URL", help="a running service (default: start one)")
    target.add_argument(
        "--database-url",
        metavar="URL",
        help="a PostgreSQL server to make the scratch database on (default: SQLite file)",
    )
    target.add_argument("--jwt-secret", metavar="SECRET", help="with --url: mint tokens with it")
    return target


def whole(option: str, text: str) -> int:
    """`text` as a whole number, or InputError naming `option`."""
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{option} {text}: must be a whole number") from None


def number(option: str, text: str) -> float:
    """`text` as a number, or InputError naming `option`."""
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{option} {text}: must be a number") from None
