"""Arguments several commands share: the contract, and the flags the settings declare."""

from __future__ import annotations

import argparse
from typing import Any

from backsmith.settings import setting


def add_contract(parser: argparse.ArgumentParser, optional: bool = False) -> None:
    """The contract argument and `--dbml`."""
    if optional:
        parser.add_argument(
            "contract",
            nargs="?",
            help=f"OpenAPI file or Markdown spec (default: ${setting('contract').env})",
        )
    else:
        parser.add_argument("contract", help="OpenAPI 3.x file (YAML/JSON) or Markdown spec")
    parser.add_argument("--dbml", metavar="FILE", help="DBML model beside a YAML/JSON contract")


def add_setting_flags(parser: argparse.ArgumentParser, *names: str) -> None:
    """A flag per named setting, spelled, explained and defaulted as the declaration says.

    Values stay text here: the settings parse them, so a bad one is the same one-line
    message naming the setting whether it came from a flag or the environment.
    """
    for name in names:
        declared = setting(name)
        text = f"{declared.help} (${declared.env}; default {declared.default_text})"
        options: dict[str, Any] = {"dest": name, "default": None, "help": text}
        if declared.flag_const is not None:
            options.update(action="store_const", const=declared.flag_const)
        elif declared.kind is bool:
            options.update(action="store_const", const=True)
        else:
            options["metavar"] = declared.metavar or name.upper()
        parser.add_argument(declared.option, **options)


def setting_flags(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The named settings' flags that were given, for `load_settings` overrides."""
    return {name: getattr(args, name, None) for name in names}
