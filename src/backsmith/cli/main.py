"""Build the argument parser from the table of commands, run one, and pick the exit code."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from backsmith import __version__
from backsmith.errors import BacksmithError, ContractError, InputError

# Each name is a module of this package with NAME, HELP, DESCRIPTION, add_arguments(parser)
# and run(args) -> exit code; a new command is one module and one line here.
COMMANDS = (
    "check",
    "model",
    "convert",
    "draft",
    "serve",
    "relay",
    "migrate",
    "seed",
    "keys",
    "events",
    "audit",
    "diff",
    "docs",
    "init",
    "test",
    "config",
    "bench",
    "build",
)

EXIT_DONE, EXIT_REFUSED, EXIT_UNUSABLE, EXIT_INTERRUPTED = 0, 1, 2, 130
# The README lists these, word for word (a test compares them).
EXIT_CODES = {
    EXIT_DONE: "done",
    EXIT_REFUSED: "the database or the server refused (a migration failed, `migrate check` "
    "found differences, a destructive plan without `--allow-destructive`, `serve` could "
    "not start: no database, missing tables, the port taken), or a check found what it "
    "looks for (`check` a lint error, `diff` a breaking change, `test` a failing check, "
    "`bench` a missed budget, `build` a required item that does not hold)",
    EXIT_UNUSABLE: "the contract, the migrations, the fixtures or a setting are unusable, "
    "with a message naming the file or the setting, or a production start is refused "
    '(see "Security")',
    EXIT_INTERRUPTED: "stopped with Ctrl-C",
}


def exit_codes_text() -> str:
    """The README's sentence on exit codes."""
    return "Exit codes: " + "; ".join(f"{code} {text}" for code, text in EXIT_CODES.items()) + "."


def command_modules() -> list[ModuleType]:
    return [importlib.import_module(f"backsmith.cli.{name}") for name in COMMANDS]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backsmith",
        description="Serve a production backend from an OpenAPI contract and a DBML model.",
        epilog="Run 'backsmith COMMAND --help' for a command's options. " + exit_codes_text(),
    )
    parser.add_argument("--version", action="version", version=f"backsmith {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in command_modules():
        sub = commands.add_parser(module.NAME, help=module.HELP, description=module.DESCRIPTION)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
        sys.stdout.flush()  # a reader gone early is met here, where it is answered, not at exit
        return code
    except ContractError as error:
        for issue in error.issues:
            print(issue.render(), file=sys.stderr)
        return EXIT_UNUSABLE
    except InputError as error:  # SettingError too: one line naming the setting
        print(f"backsmith: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    except BacksmithError as error:
        print(f"backsmith: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader left early (`backsmith config | head`): not a fault
        # Point stdout at nothing, so the interpreter's own flush at exit raises nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_DONE
