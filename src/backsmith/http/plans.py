"""Per-operation plans compiled at start-up: the facts every operation has, and the guard.

A plan is the shared base here plus the part its kind needs (`backsmith.http.kind_plans`):
rows of a table, a link between two rows, an account operation. The request path only
looks a plan up and runs its chain of steps (`backsmith.http.pipeline`).
"""

from __future__ import annotations

import sqlalchemy as sa

from backsmith.http.budgets import Recent
from backsmith.http.error_bodies import ErrorAnswerer
from backsmith.http.parsing import Parser
from backsmith.http.scoping import admits_anonymous
from backsmith.model.types import ACCOUNT_KINDS, Kind, Model, Operation, Resource
from backsmith.policies.caching import ReadCache, Store
from backsmith.policies.conditions import Preconditions
from backsmith.policies.idempotency import Records
from backsmith.policies.rate_limits import OperationLimit
from backsmith.security.access import Guard
from backsmith.security.accounts import AccountStore
from backsmith.security.credentials import Reader
from backsmith.security.ownership import NOBODY, Owners
from backsmith.settings import Settings


class OperationPlan:
    """What every operation needs at request time, built once; a custom one needs no more."""

    limit: OperationLimit | None = None  # its rate limit, when it declares one
    idempotent: Records | None = None  # its Idempotency-Key records, when it takes keys
    preconditions: Preconditions | None = None  # an item write's If-Match, checked on its row
    cache: ReadCache | None = None  # a read's kept answers, when it declares a cache
    invalidates: tuple[str, ...] = ()  # a write's tables whose kept answers it outdates
    invalidation: Store | None = None  # where it outdates them
    budget: Recent | None = None  # its recent durations, when it declares an slo

    def __init__(
        self,
        model: Model,
        operation: Operation,
        settings: Settings,
        tables: dict[str, sa.Table],
        credentials: dict[str, Reader],
        accounts: AccountStore | None = None,
    ) -> None:
        self.operation = operation
        self.settings = settings
        self.tables = tables
        self.resource: Resource | None = (
            model.resources[operation.resource] if operation.resource else None
        )
        if operation.kind in ACCOUNT_KINDS and self.resource is None and accounts is not None:
            self.resource = accounts.resource  # login and refresh bodies name no table
        # 422, or the status the contract names instead (400 where it declares 400 alone).
        self.validation_status = operation.errors.status_for(422)
        self.parser = Parser(model, operation, settings, self.resource, self.validation_status)
        self.body_pointer = self.parser.body_pointer
        self.errors = ErrorAnswerer(operation.errors, self.body_pointer)
        # A custom operation answers 501 before reading anything; `me` reads a body to change.
        self.parses = operation.kind != Kind.CUSTOM and (
            operation.kind != Kind.ME or operation.method in ("PUT", "PATCH")
        )
        # Keyed by the role's name: ParamRole is a StrEnum, so either spelling finds it.
        self.param_roles: dict[str, str] = {str(p.role): p.name for p in operation.params}
        self.needs_caller = (
            operation.link_caller is not None
            or operation.caller_scope is not None
            or _uses_caller(operation)
        )
        self.owners: Owners = NOBODY
        self._compile(model, tables, accounts)
        self._plan_access(settings, credentials, model)

    def _compile(
        self, model: Model, tables: dict[str, sa.Table], accounts: AccountStore | None
    ) -> None:
        """The facts of the operation's kind (none for a custom operation)."""

    def _plan_access(
        self, settings: Settings, credentials: dict[str, Reader], model: Model
    ) -> None:
        """The guard: who may call, and whether requests pass it at all."""
        operation = self.operation
        # A list of the rows related to the caller needs one, unless the contract admits
        # anonymous callers in so many words (then they are related to nothing: empty).
        scoped = operation.caller_scope is not None and not admits_anonymous(operation.access)
        needs_caller = self.owners.any or operation.kind == Kind.ME or scoped
        lenient = operation.kind == Kind.LOGOUT
        self.guard = Guard(
            operation.access,
            credentials,
            settings.admin_role_names,
            needs_caller,
            lenient,
            model.schemes,
        )
        # Whether requests are admitted by the guard first: not for an open operation that
        # nothing about the caller changes. Logout reads a caller who sends a token.
        self.guarded = (
            not self.guard.anonymous or self.needs_caller or operation.kind == Kind.LOGOUT
        )


def _uses_caller(operation: Operation) -> bool:
    """Whether anything the operation computes depends on who calls (`wishlisted`)."""
    shapes = [operation.response.shape if operation.response else None]
    while shapes:
        shape = shapes.pop()
        for member in shape.members if shape is not None else ():
            if member.computed is not None and member.computed.function == "exists":
                return True
            shapes.append(member.shape)
    return any(p.computed is not None and p.computed.function == "exists" for p in operation.params)
