"""The service's log on standard error: JSON lines for collectors, or lines to read.

The standard library's logging, with an orjson formatter, rather than structlog: the
server's own messages (uvicorn's start-up, its errors) come through the standard library
too, so one formatter writes every line of the log in one shape, and no other dependency
is needed. The one line per request does not go through a `Logger`: it is written by the
request layer (`backsmith.observe.requests`) in the same shape, at a fraction of the cost.
"""

from __future__ import annotations

import logging
import logging.config
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

import orjson

# What a record carries beside its message, in the JSON line (`extra=` of a log call).
_FIELDS = ("request_id", "operation", "trace_id")
_LOGGERS = ("backsmith", "uvicorn", "uvicorn.error")


def resolve_format(log_format: str, production: bool) -> str:
    """`auto`: JSON in production, where lines are collected; lines to read elsewhere."""
    if log_format != "auto":
        return log_format
    return "json" if production else "console"


def timestamp(seconds: float) -> str:
    """RFC 3339 in UTC, to the millisecond."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return orjson.dumps(line).decode()


class ConsoleFormatter(logging.Formatter):
    """uvicorn's own look (`INFO:     message`), the request id after the message."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s:%(padding)s%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.padding = " " * max(1, 9 - len(record.levelname))
        text = super().format(record)
        request_id = record.__dict__.get("request_id")
        if request_id is None:
            return text
        head, newline, rest = text.partition("\n")  # after the message, before a traceback
        return f"{head} [request {request_id}]{newline}{rest}"


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is written, not when logging was
    configured: a stream swapped since (a test's capture, an embedding tool's redirect) and
    since closed is never written to."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        """The base class sets a stream when made; the current one is always used."""


def log_config(level: str, log_format: str) -> dict[str, Any]:
    """The `logging.config.dictConfig` of the app's and the server's loggers; the server
    applies it in each of its worker processes too."""
    formatter = JsonFormatter if log_format == "json" else ConsoleFormatter
    handler = {"class": f"{__name__}.{StderrHandler.__qualname__}", "formatter": "line"}
    logger = {"handlers": ["stderr"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"stderr": handler},
        # uvicorn's access log is off: the request layer writes one line per request.
        "loggers": {name: dict(logger) for name in _LOGGERS},
    }


def configure_logging(level: str, log_format: str) -> None:
    """The app's and the server's messages on standard error, in `log_format`."""
    logging.config.dictConfig(log_config(level, log_format))


def log_to_stderr(level: str, log_format: str = "console") -> None:
    """The app's messages on standard error, unless something configured them already
    (a test's capture, an embedding application)."""
    if not logging.getLogger("backsmith").handlers:
        configure_logging(level, log_format)
    else:
        logging.getLogger("backsmith").setLevel(level.upper())
