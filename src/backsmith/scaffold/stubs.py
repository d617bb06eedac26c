"""A hooks module for an adopted spec: one stub per operation CRUD cannot serve.

Each stub is named so the hooks module finds it (the operationId in snake case, or as
written), and answers 501 with a problem that names the function to write, so a client
calling it too early learns what is missing instead of getting a bare "not implemented".
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Sequence

from backsmith.model.naming import snake
from backsmith.model.types import Operation

HEADER = '''"""The service's own logic: a function here serves the operation whose operationId it is
named after, because the contract's root `x-backsmith: {hooks: hooks}` names this module.

backsmith validates the request against the contract, checks the caller, opens the
transaction and shapes the answer; a function holds only the rule. It gets one context:
`ctx.path`, `ctx.query`, `ctx.body` (validated), `ctx.caller`, and `ctx.rows(name)` over
the model's tables, in the operation's transaction. It returns the answer's body, or
raises `Problem(status, title, detail)`, which rolls the transaction back.
"""

from __future__ import annotations

from typing import Any

from backsmith.logic import Context, Problem
'''
_EXAMPLE = """

# No operation needs a function yet. One for the operationId archiveThing would read:
#
# def archive_thing(ctx: Context) -> Any:
#     thing = ctx.rows("things").get(ctx.path["id"])
#     if thing is None:
#         raise Problem(404, "Not Found", "No such thing.")
#     return ctx.rows("things").update(thing["id"], archived=True)
"""
# A camelCase operationId's snake case is what the hooks module looks up too.
_CAMEL_ID = re.compile(r"[a-z][A-Za-z0-9]*")


def function_name(operation_id: str) -> str | None:
    """The name the hooks module finds an operation's function by, or None when the
    operationId cannot be a Python name."""
    if _CAMEL_ID.fullmatch(operation_id) and not keyword.iskeyword(snake(operation_id)):
        return snake(operation_id)
    if operation_id.isidentifier() and not keyword.iskeyword(operation_id):
        return operation_id
    return None


def hooks_module(operations: Sequence[Operation], module_file: str) -> str:
    """The module's text: a stub per operation, or a header alone when none needs one."""
    parts = [HEADER]
    unnamed = []
    for op in operations:
        name = function_name(op.operation_id)
        if name is None:
            unnamed.append(op)
            continue
        what = f"{op.method} {op.path}" + (f": {op.summary}" if op.summary else "")
        detail = json.dumps(f"{op.operation_id} is not written yet: {name} in {module_file}")
        parts.append(
            f"\n\ndef {name}(ctx: Context) -> Any:\n"
            f'    """{_docstring(what)}"""\n'
            f'    raise Problem(501, "Not Implemented", {detail})\n'
        )
    if not operations:
        parts.append(_EXAMPLE)
    for op in unnamed:
        parts.append(
            f"\n\n# {op.operation_id} ({op.method} {op.path}) is not a Python name: name its "
            f"function in the contract,\n# x-backsmith: {{handler: 'hooks:your_function'}}.\n"
        )
    return "".join(parts)


def _docstring(text: str) -> str:
    """One line, every quote escaped: whatever a summary holds, the docstring stays one."""
    return " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')
