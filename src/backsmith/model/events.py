"""What a contract publishes and keeps: domain events, audited tables, scheduled jobs.

A contract publishes events when it says so: an OpenAPI 3.1 `webhooks` section, webhook
URLs in its root `x-backsmith: {webhooks: [...]}`, or `x-backsmith: {events: true}`. Its
writes then leave an event in the outbox, in their own transaction, named by the row's
schema: `order.created`, `order.updated`, `order.deleted`, and `order.<state>` for a move
of its lifecycle (`order.cancelled`). A `webhooks` section names the events webhooks get:
each entry's `x-backsmith: {event: order.paid}` on its operation, or its own name
(`orderPaid` and `order.paid` both name `order.paid`).

    x-backsmith:
      audit: true                                  # every table's changes, or per schema
      schedules: {expire_unpaid: "*/5 * * * *"}    # a hooks function, or module:function
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backsmith.contract.load import Contract
from backsmith.contract.source import escape
from backsmith.errors import Issue
from backsmith.model.naming import singular, snake

if TYPE_CHECKING:
    from backsmith.model.types import Resource

METHODS = ("post", "put", "patch", "get", "delete")
_JOB = re.compile(r"^([A-Za-z_]\w*(\.[A-Za-z_]\w*)*:)?[A-Za-z_]\w*$")
_TYPE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")


@dataclass(frozen=True, slots=True)
class Schedule:
    """A function run once per tick of its cron expression, across all instances."""

    job: str  # as declared: "expire_unpaid" (in the hooks module) or "shop.jobs:expire"
    cron: str
    pointer: str


@dataclass(frozen=True, slots=True)
class EventFacts:
    """The contract's events, audit and schedules; empty when it declares none."""

    publishes: bool = False
    names: Mapping[str, str] = field(default_factory=dict)  # table -> "order"
    # The event types the `webhooks` section declares; None: webhooks get every event.
    webhook_types: tuple[str, ...] | None = None
    audited: frozenset[str] = frozenset()  # tables
    schedules: tuple[Schedule, ...] = ()

    def event_name(self, table: str) -> str:
        return self.names.get(table) or singular(snake(table))


NO_EVENTS = EventFacts()


def read_events(
    contract: Contract, resources: Mapping[str, Resource], schema_tables: Mapping[str, str]
) -> tuple[EventFacts, list[Issue]]:
    """The contract's event facts, and an issue for each declaration that cannot apply."""
    document = contract.document
    root = document.get("x-backsmith")
    root = root if isinstance(root, dict) else {}
    issues: list[Issue] = []
    webhook_types = _webhook_types(contract, document.get("webhooks"), issues)
    publishes = bool(webhook_types is not None or root.get("webhooks") or root.get("events"))
    if "events" in root and not isinstance(root["events"], bool):
        issues.append(contract.issue("events must be true or false", "/x-backsmith/events"))
    names: dict[str, str] = {}
    audited: set[str] = set()
    every = root.get("audit") is True
    schemas = (document.get("components") or {}).get("schemas") or {}
    for name, schema in schemas.items():
        table = schema_tables.get(name)
        if table is None or table not in resources:
            continue
        names.setdefault(table, singular(snake(name)))
        ext = schema.get("x-backsmith") if isinstance(schema, dict) else None
        if isinstance(ext, dict) and "audit" in ext:
            if not isinstance(ext["audit"], bool):
                pointer = f"/components/schemas/{escape(name)}/x-backsmith/audit"
                issues.append(contract.issue("audit must be true or false", pointer))
            elif ext["audit"]:
                audited.add(table)
    if every:
        audited.update(resources)
    schedules = _schedules(contract, root.get("schedules"), issues)
    facts = EventFacts(publishes, names, webhook_types, frozenset(audited), schedules)
    return facts, issues


def _webhook_types(contract: Contract, section: Any, issues: list[Issue]) -> tuple[str, ...] | None:
    if not isinstance(section, dict) or not section:
        return None
    types: list[str] = []
    for name, item in section.items():
        pointer = f"/webhooks/{escape(str(name))}"
        declared = None
        for method in METHODS:
            op = item.get(method) if isinstance(item, dict) else None
            ext = op.get("x-backsmith") if isinstance(op, dict) else None
            if isinstance(ext, dict) and "event" in ext:
                declared, pointer = ext["event"], f"{pointer}/{method}/x-backsmith/event"
        event = str(declared) if declared is not None else event_type(str(name))
        if not _TYPE.match(event):
            message = f"'{event}' is no event type: name it like order.paid"
            issues.append(contract.issue(message, pointer))
            continue
        types.append(event)
    return tuple(dict.fromkeys(types))


def event_type(name: str) -> str:
    """`orderPaid`, `order_paid` and `order.paid` all name `order.paid`."""
    if "." in name:
        return name.lower()
    words = snake(name).split("_")
    if len(words) < 2:
        return words[0]
    return "_".join(words[:-1]) + "." + words[-1]


def _schedules(contract: Contract, declared: Any, issues: list[Issue]) -> tuple[Schedule, ...]:
    if declared is None:
        return ()
    where = "/x-backsmith/schedules"
    if not isinstance(declared, dict):
        issues.append(
            contract.issue('schedules must map jobs to cron: {job: "*/5 * * * *"}', where)
        )
        return ()
    from croniter import croniter  # only contracts with schedules pay for the import

    found = []
    for job, cron in declared.items():
        pointer = f"{where}/{escape(str(job))}"
        if not _JOB.match(str(job)):
            message = f"'{job}' is no function: name one of the hooks module or module:function"
            issues.append(contract.issue(message, pointer))
        elif not isinstance(cron, str) or not croniter.is_valid(cron):
            message = f"'{cron}' is no cron expression, e.g. */5 * * * * (every five minutes)"
            issues.append(contract.issue(message, pointer))
        else:
            found.append(Schedule(str(job), cron, pointer))
    return tuple(found)
