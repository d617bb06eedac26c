"""The app's own log messages, on standard error beside the server's."""

from __future__ import annotations

import logging


def log_to_stderr(level: str) -> None:
    """The app's own messages beside the server's, at the configured level."""
    logger = logging.getLogger("backsmith")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level.upper())
