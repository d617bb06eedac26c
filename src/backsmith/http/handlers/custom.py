"""The handler of an operation that is not CRUD: 501, naming why, until it has its own."""

from __future__ import annotations

from backsmith.errors import NotImplementedOperation
from backsmith.http.plans import OperationPlan
from backsmith.http.request import Request
from backsmith.http.response import Response
from backsmith.storage.database import Database


async def handle_custom(plan: OperationPlan, database: Database, request: Request) -> Response:
    op = plan.operation
    raise NotImplementedOperation(
        f"Operation '{op.operation_id}' ({op.method} {op.path}) is not CRUD and needs a handler; "
        f"{op.reason}."
    )
