"""The tables backsmith keeps for itself, each declared once with when a contract needs it.

Table building and migrations take these like any of the model's tables: a new system
table (idempotency records, an outbox, audit rows) is one entry in `SYSTEM_TABLES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from backsmith.model.policies import idempotency_of
from backsmith.model.types import API_KEY, Model, Resource
from backsmith.storage.api_keys import KEYS
from backsmith.storage.event_tables import AUDIT, EVENT_LOG, OUTBOX, TICKS
from backsmith.storage.idempotency_table import IDEMPOTENCY
from backsmith.storage.sessions import SESSIONS


@dataclass(frozen=True, slots=True)
class SystemTable:
    """One table backsmith keeps: its columns as a resource, built like the model's tables."""

    resource: Resource
    needed: Callable[[Model], bool]  # whether a contract's model needs the table
    purpose: str

    @property
    def name(self) -> str:
        return self.resource.table


def _keeps_api_keys(model: Model) -> bool:
    return any(scheme.kind == API_KEY for scheme in model.schemes.values())


def _has_accounts(model: Model) -> bool:
    return model.accounts is not None


def _publishes(model: Model) -> bool:
    return model.events.publishes


def _audits(model: Model) -> bool:
    return bool(model.events.audited)


def _schedules(model: Model) -> bool:
    return bool(model.events.schedules)


def _takes_keys(model: Model) -> bool:
    return any(idempotency_of(op) is not None for op in model.operations)


# In the order their tables are built (and so created and planned).
SYSTEM_TABLES: tuple[SystemTable, ...] = (
    SystemTable(KEYS, _keeps_api_keys, "the keys backsmith keeps for the contract's apiKey"),
    SystemTable(SESSIONS, _has_accounts, "refresh tokens of the built-in accounts"),
    SystemTable(OUTBOX, _publishes, "events on their way to webhooks and brokers"),
    SystemTable(EVENT_LOG, _publishes, "events delivered or dead-lettered, kept for a while"),
    SystemTable(AUDIT, _audits, "every change of the audited tables' rows"),
    SystemTable(TICKS, _schedules, "which instance ran each tick of a scheduled job"),
    SystemTable(IDEMPOTENCY, _takes_keys, "each Idempotency-Key's request and the answer it got"),
)


def system_tables(model: Model) -> list[SystemTable]:
    """The system tables `model` needs."""
    return [table for table in SYSTEM_TABLES if table.needed(model)]
