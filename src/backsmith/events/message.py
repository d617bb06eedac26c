"""One event as it leaves the outbox: what every delivery target is handed.

The body is the same bytes for every target: a JSON object with the event's `id`,
`type`, `timestamp` and `data` (the payload shape the Standard Webhooks specification
recommends), plus where it came from (`resource`, `key`, `subject`, `operation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

NATS_SCHEMES = ("nats", "tls")


@dataclass(frozen=True, slots=True)
class Message:
    """An event ready to send: its stable id (the de-duplication key), type and body."""

    id: str
    type: str
    body: bytes  # JSON, UTF-8
    timestamp: int  # seconds since the epoch, when the event happened


class DeliveryFailed(Exception):
    """A target did not take the event; the relay retries it later (the message says why)."""


def masked(url: str) -> str:
    """`url` with its password (or a NATS token, the user part alone) shown as `***`."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    if colon:
        userinfo = f"{user}:***"
    elif parts.scheme in NATS_SCHEMES:
        userinfo = "***"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))
