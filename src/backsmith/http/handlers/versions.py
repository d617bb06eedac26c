"""Which representation an item write's If-Match is compared with: the one GET answers.

A PUT, PATCH or DELETE of `/books/{id}` compares the client's tag with the digest of what
`GET /books/{id}` answers that caller now. When the contract has no such read, the write's
own answer for the row stands in, so the tags its answers carry are the ones it checks.
"""

from __future__ import annotations

from functools import partial

from backsmith.http.handlers.reads import representation
from backsmith.http.kind_plans import RowsPlan
from backsmith.http.plans import OperationPlan
from backsmith.model.kinds import Kind
from backsmith.policies.conditions import GUARDED_WRITES, Preconditions


def plan_preconditions(plans: dict[str, OperationPlan]) -> None:
    """Give every item write its Preconditions, reading through its path's GET."""
    reads = {
        (plan.operation.path, plan.resource.table): plan
        for plan in plans.values()
        if isinstance(plan, RowsPlan) and plan.operation.kind == Kind.READ
    }
    for plan in plans.values():
        operation = plan.operation
        if not isinstance(plan, RowsPlan) or operation.kind not in GUARDED_WRITES:
            continue
        if operation.key_in_body is not None:  # PUT /books, its key in the body: no path
            continue  # names the row before the body is read, so If-Match is not honoured
        read = reads.get((operation.path, plan.resource.table), plan)
        required = operation.policies.require_if_match
        plan.preconditions = Preconditions(partial(representation, read), required)
