"""The operations table of the service's README: one row per operation, with everything
the model knows of it (kind, access, limits, idempotency, budget and what serves it)."""

from __future__ import annotations

from collections.abc import Sequence

from backsmith.model.types import ACCOUNT_KINDS, Model, Operation
from backsmith.verify.describe import needs_handler, owner_text, requirements_text

HEADER = (
    "method",
    "path",
    "operationId",
    "kind",
    "auth",
    "roles",
    "owner",
    "rate limit",
    "idempotency",
    "cache",
    "budget",
    "served by",
)
NOTHING = "—"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table; a `|` inside a cell is escaped, an empty cell shows a dash."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        cells = (cell.replace("|", "\\|") if cell else NOTHING for cell in row)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def operations_table(model: Model) -> list[str]:
    """Every operation, in the contract's order, as a Markdown table."""
    return markdown_table(HEADER, [_row(model, op) for op in model.operations])


def _row(model: Model, op: Operation) -> tuple[str, ...]:
    policies = op.policies
    idempotency = [str(policies.idempotency)] if policies.idempotency else []
    if policies.require_if_match:
        idempotency.append("If-Match required")
    return (
        op.method,
        f"`{op.base_path}{op.path}`",
        op.operation_id,
        str(op.kind),
        _auth(op),
        ", ".join(op.access.roles),
        owner_text(model, op),
        policies.rate_limit.describe() if policies.rate_limit else "",
        ", ".join(idempotency),
        f"{policies.cache_seconds}s" if policies.cache_seconds else "",
        policies.slo.describe() if policies.slo else "",
        served_by(op),
    )


def _auth(op: Operation) -> str:
    """The schemes a caller may use; `open` where the contract declares no security."""
    said = requirements_text(op) or "open"
    return f"{said} (on purpose)" if op.access.public else said


def served_by(op: Operation) -> str:
    """What answers the operation: CRUD, the built-in accounts, a transition, a handler, or
    nothing yet (501)."""
    if op.policies.handler is not None:
        return f"handler `{op.policies.handler.describe()}`"
    if op.policies.transition is not None:
        return op.policies.transition.describe()
    if op.kind in ACCOUNT_KINDS:
        return "built-in accounts"
    if needs_handler(op):
        return f"nothing yet: 501 ({op.reason})" if op.reason else "nothing yet: 501"
    hooks = ", ".join(f"{moment} `{handler.describe()}`" for moment, handler, _ in op.hooks)
    return "CRUD" + (f", hooks {hooks}" if hooks else "")
