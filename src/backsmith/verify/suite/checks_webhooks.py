"""Webhooks: declared deliveries are named, not checked (the reason says why)."""

from __future__ import annotations

from backsmith.model.types import Operation
from backsmith.verify.suite.cases import Suite
from backsmith.verify.suite.results import Verdict, not_applicable


def webhooks(suite: Suite, op: Operation) -> Verdict:
    facts = suite.model.events
    if not facts.publishes or op.method == "GET":
        return not_applicable("no webhook is declared for it")
    types = ", ".join(facts.webhook_types or ()) or "every event"
    return not_applicable(
        f"its writes publish events (webhooks take {types}): a delivery needs a receiver the "
        "service is configured to call, which the suite cannot set; not checked"
    )
