"""The command line: one module per command, registered in `main.COMMANDS`."""

from __future__ import annotations

from backsmith.cli.main import EXIT_CODES, main

__all__ = ["EXIT_CODES", "main"]
