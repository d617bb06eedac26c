"""Lists scoped to the caller (`x-backsmith: {where: <path> = caller}`), compiled once.

The condition is built at start-up as the same semi-joins a filter across relations
makes, with the caller's key as its one bound value. A caller no row can be related to
(anonymous where the contract admits that, or a subject that is no possible key) sees an
empty list; where the contract does not admit anonymous callers, the guard answers 401
before this runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from backsmith.model.types import Access, CallerScope
from backsmith.storage.related import caller_value, reaches

CALLER_PARAM = "bs_caller"


class CallerScoping:
    """One list's scope to the rows related to its caller."""

    def __init__(self, scope: CallerScope, table: sa.Table, tables: Mapping[str, sa.Table]):
        hops = scope.hops
        # The column the caller's subject is converted to the type of (customers.id).
        self.column = (tables[hops[-1].target] if hops else table).c[scope.column]
        value = sa.bindparam(CALLER_PARAM, type_=self.column.type)
        self.clause: sa.ColumnElement[bool] = (
            reaches(tables, table, hops, scope.column, value)
            if hops
            else table.c[scope.column] == value
        )

    def narrow(self, subject: Any, where: list[Any], params: dict[str, Any]) -> None:
        """Keep a statement to the rows related to the caller whose subject this is."""
        value = caller_value(self.column, subject)
        if value is None:
            where.append(sa.false())
            return
        where.append(self.clause)
        params[CALLER_PARAM] = value


def admits_anonymous(access: Access) -> bool:
    """Whether the contract itself says anonymous callers are welcome: `security: []`, or
    an empty requirement among the alternatives (`[{}, {bearer: []}]`). Saying nothing
    is not saying that: a list scoped to the caller then needs one."""
    requirements = access.requirements
    return requirements is not None and (not requirements or any(not r for r in requirements))
