"""The parts of a plan each kind of operation needs, and the compiler choosing them.

`TablePlan` holds what an operation over one table needs (statements, shaping, writes,
the parents its path names, its owners); `RowsPlan` the CRUD kinds, whose answers are
always shaped; `LinkPlan` a link between two rows; `AccountOperationPlan` an account operation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from backsmith.events.one_statement import OneStatement
from backsmith.events.recorder import Emitter, Recorder, recorders
from backsmith.http.budgets import recent_for
from backsmith.http.handled import HandledPlan, resource_access
from backsmith.http.plans import OperationPlan
from backsmith.http.scoping import CallerScoping
from backsmith.http.shaping import Shaper
from backsmith.http.urls import AnswerUrls, in_path
from backsmith.http.write_hooks import WriteHooks
from backsmith.http.writes import (
    Children,
    Reference,
    Stamps,
    children_of,
    generated_keys,
    numbered_key,
    reference_fields,
    writable_fields,
)
from backsmith.logic.loading import load_crud_hooks, load_handlers
from backsmith.model.lifecycles import Lifecycle
from backsmith.model.policies import idempotency_of
from backsmith.model.resources import derived_columns
from backsmith.model.servers import base_path_for, link_path
from backsmith.model.types import (
    ACCOUNT_KINDS,
    Field,
    Hop,
    HopKind,
    Kind,
    Model,
    Operation,
    Resource,
)
from backsmith.policies.counters import Counters
from backsmith.policies.idempotency import records_for
from backsmith.policies.rate_limits import limit_for
from backsmith.security.accounts import AccountPlan, AccountStore
from backsmith.security.credentials import KeyStore, credentials_for
from backsmith.security.ownership import Owners, rule
from backsmith.security.tokens import TokenVerifier
from backsmith.settings import Settings, database_scheme
from backsmith.storage.api_keys import KEYS_TABLE
from backsmith.storage.ordering import Ordering, order_keys
from backsmith.storage.queries import TableQueries


@dataclass(frozen=True, slots=True)
class Parent:
    """A parent row a nested path names (`{slug}` of the book in /books/{slug}/reviews)."""

    name: str  # the path parameter
    queries: TableQueries  # over the parent's table
    column: str  # the parent's column the parameter addresses
    hops: tuple[Hop, ...]  # from the operation's rows to the parent's, the innermost first


class TablePlan(OperationPlan):
    """An operation over the rows of one table."""

    resource: Resource

    def _compile(
        self, model: Model, tables: dict[str, sa.Table], accounts: AccountStore | None
    ) -> None:
        operation, resource = self.operation, self.resource
        params = operation.params
        admins = self.settings.admin_role_names
        self.addressing = [
            (p.name, p.column)
            for p in params
            if p.role in ("key", "scope") and p.column and not p.hops
        ]
        self.scopes_across = [p for p in params if p.role == "scope" and p.hops]
        self.filters = [
            (p.name, p.column) for p in params if p.role == "filter" and p.column and not p.hops
        ]
        self.filters_across = [p for p in params if p.role == "filter" and (p.hops or p.computed)]
        self.parents: list[Parent] = _parents(operation, resource, tables)
        owners = model.owners  # declared, or inherited from a path
        # A parent the path names is only looked up: anyone finds a public one.
        parent_owners = tuple(
            rule(owners.get(parent.queries.table.name), parent.queries.table, tables, admins, True)
            for parent in self.parents
        )
        self._plan_parent_link(model, tables)
        reads = operation.kind in (Kind.LIST, Kind.READ)
        self.owners = Owners(
            rule(owners.get(resource.table), tables[resource.table], tables, admins, reads),
            parent_owners,
        )
        self.queries = TableQueries(tables[resource.table])
        scope = operation.caller_scope
        self.caller_scope = (
            CallerScoping(scope, tables[resource.table], tables) if scope is not None else None
        )
        response = operation.response
        self.shaper: Shaper | None = (
            Shaper(response.shape, model, tables, self.settings.datetime_precision)
            if response is not None and response.shape is not None
            else None
        )
        self.writable: dict[str, Field] = writable_fields(resource, operation.body_shape)
        self.generated_keys = generated_keys(resource, operation.body_shape)
        self.numbered = numbered_key(resource)
        # Columns no answer shows and no record of a request keeps: a password's hash.
        self.secret_columns = tuple(
            f.column for f in resource.fields if f.write_only and f.column is not None
        )
        self.references: dict[str, Reference] = reference_fields(resource, operation.body_shape)
        self.children: list[Children] = children_of(
            operation.body_shape, model, tables, operation.replace_children
        )
        shapes = [operation.body_shape, response.shape if response else None]
        self.derive = next((s.derive for s in shapes if s is not None and s.derive), ())
        self.derive = self.derive or derived_columns(resource)
        self.default_order: Ordering = order_keys(
            tables[resource.table], resource, operation.default_sort
        )
        self.stamps = Stamps(resource)
        self.lifecycle: Lifecycle | None = model.lifecycles.get(resource.table)
        self.write_hooks: WriteHooks | None = None  # the team's, set once plans are built
        self.recorder: Recorder | None = None  # its events and audit rows, when it has any
        self.one_statement: OneStatement | None = None  # the write and its event at once
        self.location: list[tuple[str, str]] = []  # (path parameter, key column) of the read
        self.location_template = ""
        self._plan_location(model)  # a create's Location, any answer's `links.self`
        self.body_names = {f.column: name for name, f in self.writable.items()}
        self.body_names.update({f.column: name for name, (_, f) in self.references.items()})

    def _plan_parent_link(self, model: Model, tables: dict[str, sa.Table]) -> None:
        """How a create ties its row to the innermost parent its path names: the row's own
        reference (reviews.book_id), or a row of the join table between the two."""
        self.parent_hop: Hop | None = None
        self.parent_join: tuple[TableQueries, Stamps] | None = None
        if self.operation.kind != Kind.CREATE or not self.parents:
            return
        hop = self.parents[0].hops[0]
        if hop.kind == HopKind.ONE:
            self.parent_hop = hop
        elif hop.kind == HopKind.THROUGH and hop.join is not None:
            join = model.resource_for_table(hop.join)
            assert join is not None
            self.parent_hop = hop
            self.parent_join = (TableQueries(tables[hop.join]), Stamps(join))

    @property
    def page_size(self) -> int:
        return self.operation.page_size or self.settings.page_size

    @property
    def max_page_size(self) -> int:
        return self.operation.max_page_size or self.settings.max_page_size

    def _plan_location(self, model: Model) -> None:
        reads = [
            op
            for op in model.operations
            if op.kind == Kind.READ and op.resource == self.operation.resource
        ]
        # Prefer the item path under the same collection path: /authors/{id}/books -> its item.
        reads.sort(key=lambda op: (not op.path.startswith(self.operation.path), len(op.path)))
        if not reads:
            return
        read = reads[0]
        base = base_path_for(read.base_path, self.settings.base_path)
        self.location_template = link_path(base, read.path)
        self.location = [(p.name, p.column or "") for p in read.params if p.location == "path"]

    def location_of(self, row: Any) -> str | None:
        if not self.location_template:
            return None
        path = self.location_template
        for name, column in self.location:
            value = in_path(str(row[column])) if column in row else ""
            path = path.replace(f"{{{name}}}", value)
        return path


class RowsPlan(TablePlan):
    """List, read, create, replace, update or delete: answers always shaped by the table."""

    shaper: Shaper

    def _compile(
        self, model: Model, tables: dict[str, sa.Table], accounts: AccountStore | None
    ) -> None:
        super()._compile(model, tables, accounts)
        # The model gives every CRUD operation a response shape (its table's, at least).
        assert self.shaper is not None and self.operation.response is not None
        self.response = self.operation.response
        self.urls = AnswerUrls(self.operation, self.location_of, self.location)

    def creates_alone(self) -> bool:
        """Whether its create is one INSERT ... RETURNING whatever the body: no parent to
        find or link, no children, derived values, hooks, events or parent's owner first."""
        owner = self.owners.rows
        return not (
            self.parents
            or self.derive
            or self.children
            or self.write_hooks
            or self.recorder
            or (owner is not None and owner.owner.hops)
            or not self.shaper.flat
        )


class LinkPlan(TablePlan):
    """Add or remove one row of a join table between a parent row and a target."""

    def _compile(
        self, model: Model, tables: dict[str, sa.Table], accounts: AccountStore | None
    ) -> None:
        super()._compile(model, tables, accounts)
        operation = self.operation
        hop = operation.link
        assert hop is not None and operation.response is not None
        self.hop = hop
        self.response = operation.response
        link_table = hop.join or hop.target
        self.link_queries = TableQueries(tables[link_table])
        link_resource = model.resource_for_table(link_table)
        assert link_resource is not None
        self.link_stamps = Stamps(link_resource)
        target_param = next((p for p in operation.params if p.role == "target"), None)
        # A link answers with the linked row when its response is shaped as that table.
        self.answers_target = (
            hop.kind == "through"
            and self.shaper is not None
            and self.shaper.table.name == hop.target
        )
        # The table the caller's link refers to (users), to tell an unknown caller apart.
        self.callers_queries: TableQueries | None = None
        self.caller_key: str | None = None
        for relation in link_resource.relations:
            if relation.columns == (operation.link_caller,):
                self.callers_queries = TableQueries(tables[relation.target])
                self.caller_key = relation.target_columns[0]
        # A link through a join table names its target row: (path parameter, column, table).
        self.target: tuple[str, str, TableQueries] | None = None
        if hop.kind == "through" and target_param is not None:
            column = target_param.column or ""
            self.target = (target_param.name, column, TableQueries(tables[hop.target]))
        # The parent row (a customer) and the linked row may each belong to someone. The
        # caller's own link (a like) leaves a public parent as it is, so anyone may add
        # theirs; a link between two rows (a post's tag) changes the parent: its owner's.
        admins = self.settings.admin_role_names
        parent = model.owners.get(self.resource.table)
        target = model.owners.get(hop.target) if hop.kind == "through" else None
        own_link = operation.link_caller is not None
        self.owners = Owners(
            parents=self.owners.parents,
            link_parent=rule(parent, tables[self.resource.table], tables, admins, own_link),
            link_target=rule(target, tables[hop.target], tables, admins, reads=True),
        )


class AccountOperationPlan(TablePlan):
    """register, login, refresh, logout or me, over the accounts table."""

    def _compile(
        self, model: Model, tables: dict[str, sa.Table], accounts: AccountStore | None
    ) -> None:
        super()._compile(model, tables, accounts)
        assert accounts is not None
        self.account = AccountPlan(self.operation, accounts)
        kept = accounts.accounts  # the hash and the roles are never the client's
        for name, written in list(self.writable.items()):
            if written.column in (kept.password_column, kept.roles_column):
                del self.writable[name]
        self.body_names = {f.column: name for name, f in self.writable.items()}


def plan_class(operation: Operation, accounts: AccountStore | None) -> type[OperationPlan]:
    """The plan an operation of this kind needs."""
    kind = operation.kind
    if kind in ACCOUNT_KINDS:
        return AccountOperationPlan if accounts is not None else OperationPlan
    if kind == Kind.CUSTOM or operation.resource is None:
        return OperationPlan
    if kind in (Kind.LINK, Kind.UNLINK):
        return LinkPlan
    return RowsPlan


def _parents(operation: Operation, resource: Resource, tables: dict[str, sa.Table]) -> list[Parent]:
    """The parent rows the path names, the innermost first (the one the rows refer to)."""
    parents = []
    for param in operation.params:
        if param.role != "scope" or not param.column:
            continue
        if param.hops:
            target = tables[param.hops[-1].target]
            parents.append(Parent(param.name, TableQueries(target), param.column, param.hops))
            continue
        for relation in resource.relations:
            if relation.columns == (param.column,) and relation.target in tables:
                hop = Hop(
                    HopKind.ONE,
                    resource.table,
                    relation.target,
                    relation.columns,
                    relation.target_columns,
                )
                target = tables[relation.target]
                column = relation.target_columns[0]
                parents.append(Parent(param.name, TableQueries(target), column, (hop,)))
    return sorted(parents, key=lambda parent: len(parent.hops))


# The kinds whose writes are recorded (events, audit rows).
WRITES = frozenset({Kind.CREATE, Kind.REPLACE, Kind.UPDATE, Kind.DELETE})
# Those whose write and event can be one statement on PostgreSQL (events.one_statement).
ONE_STATEMENT = {Kind.CREATE: "created", Kind.REPLACE: "updated", Kind.UPDATE: "updated"}


def compile_plans(
    model: Model,
    settings: Settings,
    tables: dict[str, sa.Table],
    database: Callable[[], Any] = lambda: None,
    counters: Counters | None = None,
) -> dict[str, OperationPlan]:
    """A plan per operationId, of the class its kind needs; `counters` are the ones rate
    limits and login limits count in (this process's own when none are given)."""
    counters = counters if counters is not None else Counters()
    keys = tables.get(KEYS_TABLE)
    store = KeyStore(TableQueries(keys) if keys is not None else None, database)
    accounts = None
    if model.accounts is not None:
        resource = model.resource_for_table(model.accounts.table)
        assert resource is not None
        accounts = AccountStore(
            model.accounts, resource, tables, settings, database, counters=counters
        )
    credentials = credentials_for(model.schemes, TokenVerifier(settings), store, accounts)
    handlers = load_handlers(model, settings)  # the team's functions, imported once
    hooks = load_crud_hooks(model)
    records = recorders(model, settings)
    one_statement = database_scheme(settings.database_url) in ("postgresql", "postgres")
    events = Emitter(model, settings)
    resources = resource_access(model, tables, settings, records) if handlers or hooks else {}
    plans: dict[str, OperationPlan] = {}
    for op in model.operations:
        bound = handlers.get(op.pointer)
        kind = HandledPlan if bound is not None else plan_class(op, accounts)
        plan = plans[op.operation_id] = kind(model, op, settings, tables, credentials, accounts)
        plan.limit = limit_for(op.policies.rate_limit, counters, settings)
        plan.idempotent = records_for(idempotency_of(op), tables, database, settings)
        plan.budget = recent_for(op.policies.slo)
        if isinstance(plan, HandledPlan) and bound is not None:
            plan.bound, plan.resources, plan.events = bound, resources, events
            continue
        if not isinstance(plan, TablePlan):
            continue
        if op.kind in WRITES:
            plan.recorder = records.get(plan.resource.table)
            if one_statement and op.kind in ONE_STATEMENT:
                action = ONE_STATEMENT[op.kind]
                plan.one_statement = OneStatement.made(
                    plan.recorder, action, plan.shaper, op.operation_id
                )
        if op.pointer in hooks:
            plan.write_hooks = WriteHooks(
                op.operation_id,
                hooks[op.pointer],
                plan.resource,
                plan.body_names,
                resources,
                settings,
                events,
            )
        keyed = plan.idempotent
        alone = isinstance(plan, RowsPlan) and op.kind == Kind.CREATE and plan.creates_alone()
        if keyed is not None and one_statement and alone:
            # Its record is written by the create's own INSERT (policies.keyed_writes).
            keyed.creates_in = plan.queries.table
    return plans
