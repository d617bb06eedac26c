"""The model in the middle: frozen resources, fields, relations and operations.

Everything downstream (storage, HTTP, verification) reads these, never the raw contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The closed sets are part of the model's vocabulary: importable from here as well.
from backsmith.contract.source import nearest_position
from backsmith.errors import Issue  # findings are contract issues
from backsmith.model.access_types import (
    API_KEY,
    BASIC,
    BEARER_JWT,
    PREFIXED_JWT,
    UNSUPPORTED,
    Access,
    Accounts,
    Requirement,
    Scheme,
)
from backsmith.model.error_shapes import PROBLEM_ANSWERS, ErrorAnswers
from backsmith.model.events import NO_EVENTS, EventFacts
from backsmith.model.hops import Computed, Hop
from backsmith.model.kinds import (
    ACCOUNT_KINDS,
    FieldType,
    Generated,
    HopKind,
    Kind,
    ParamLocation,
    ParamRole,
    SchemeKind,
    Visibility,
)
from backsmith.model.naming import snake
from backsmith.model.policies import NO_POLICIES, Handler, Policies
from backsmith.model.scopes import CallerScope
from backsmith.model.servers import BasePath
from backsmith.model.urls import UrlSlot

__all__ = [
    "ACCOUNT_KINDS",
    "API_KEY",
    "BASIC",
    "BEARER_JWT",
    "PREFIXED_JWT",
    "UNSUPPORTED",
    "Access",
    "AccountFacts",
    "Accounts",
    "BasePath",
    "BodyFacts",
    "CallerScope",
    "Computed",
    "Envelope",
    "Field",
    "FieldType",
    "Generated",
    "Hop",
    "HopKind",
    "Index",
    "ItemShape",
    "Kind",
    "Member",
    "Model",
    "Operation",
    "Owner",
    "Param",
    "ParamLocation",
    "ParamRole",
    "Relation",
    "Requirement",
    "Resource",
    "Scheme",
    "SchemeKind",
    "SuccessAnswer",
    "Visibility",
]


@dataclass(frozen=True, slots=True)
class Field:
    """One column of a resource and the API property it is served as."""

    name: str
    column: str
    type: FieldType
    nullable: bool = True
    primary_key: bool = False
    unique: bool = False
    generated: Generated | None = None
    read_only: bool = False
    write_only: bool = False
    max_length: int | None = None
    big: bool = False
    enum: tuple[str, ...] = ()
    enum_name: str | None = None
    item_type: FieldType | None = None
    pg_array: bool = False
    default: Any = None
    sql_default: str | None = None
    hidden: bool = False  # a column the API never shows (a surrogate key)
    renamed_from: str | None = None  # the column's earlier name, so migrations rename it
    derived_from: str | None = None  # Generated.DERIVED: the column it is made from

    @property
    def server_set(self) -> bool:
        return self.generated is not None


@dataclass(frozen=True, slots=True)
class Relation:
    """A many-to-one reference from `columns` of this resource to another table."""

    columns: tuple[str, ...]
    target: str  # table name
    target_columns: tuple[str, ...]
    on_delete: str | None = None


@dataclass(frozen=True, slots=True)
class Member:
    """One property of a response item and where its value comes from.

    column:   a column of the item's row
    embed:    related rows (an object for a "one" hop, else an array), shaped by `shape`
    values:   an array of one column of related rows (`genreList: ["fantasy"]`)
    computed: a value computed in SQL
    """

    name: str
    source: str
    column: str | None = None
    type: FieldType | None = None
    nullable: bool = True
    as_string: bool = False  # a decimal the schema serves as a string
    hop: Hop | None = None
    shape: ItemShape | None = None
    computed: Computed | None = None
    replace: bool = False  # children a PUT or PATCH may replace
    required: bool = False  # the schema requires it: answered null when there is no value
    order: tuple[str, ...] = ()  # an embedded array's order: columns, "-" for descending
    write_only: bool = False  # writeOnly: taken from bodies, never answered


@dataclass(frozen=True, slots=True)
class ItemShape:
    """How rows of one resource become the objects of one schema."""

    resource: str
    members: tuple[Member, ...]
    derive: tuple[tuple[str, str], ...] = ()  # (column, source column) filled on create

    def member(self, name: str) -> Member | None:
        return next((m for m in self.members if m.name == name), None)

    @property
    def flat(self) -> bool:
        return all(m.source == "column" for m in self.members)


@dataclass(frozen=True, slots=True)
class Index:
    columns: tuple[str, ...]
    unique: bool = False
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    """A collection served from one table."""

    name: str
    table: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    schema: str | None = None  # the component schema that describes one item
    relations: tuple[Relation, ...] = ()
    indexes: tuple[Index, ...] = ()
    checks: tuple[str, ...] = ()
    source: str = "schema"  # "dbml" or "schema"
    renamed_from: str | None = None  # the table's earlier name, so migrations rename it

    def field(self, name: str) -> Field | None:
        """The field with API name or column `name` (`createdAt` also finds `created_at`)."""
        for item in self.fields:
            if item.name == name or item.column == name:
                return item
        column = snake(name)
        for item in self.fields:
            if item.column == column:
                return item
        return None

    @property
    def key(self) -> Field:
        found = self.field(self.primary_key[0])
        assert found is not None
        return found


@dataclass(frozen=True, slots=True)
class Param:
    """A declared parameter and the role conventions gave it (a ParamRole, not a caller's).

    `schema` is the raw declared schema, for the model's own use; downstream code reads the
    decoded facts at the end (types, item_types, default, validation).
    """

    name: str
    location: ParamLocation
    required: bool
    schema: dict[str, Any]
    role: ParamRole = ParamRole.OTHER
    column: str | None = None  # on the resource's table, or on the last table of `hops`
    style: str = "form"
    explode: bool = True
    hops: tuple[Hop, ...] = ()  # a filter or scope across relations (author.handle)
    computed: Computed | None = None  # a filter on a computed value
    declared: str | None = None  # x-backsmith filter, as written
    addresses: str | None = None  # x-backsmith column: the column a path parameter names
    reason: str = ""  # why a refused parameter cannot be served
    # How its text decodes (JSON types of the value, of an array's items) and the JSON
    # Schema 2020-12 the value must pass, converted for the request direction.
    types: frozenset[str] = frozenset({"string"})
    item_types: frozenset[str] = frozenset({"string"})
    default: Any = None
    validation: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    """Where a list or item response puts its parts (absent keys are not part of it)."""

    items: str | None = None  # the array of rows; None for a bare array
    wrapper: str | None = None  # a singular wrapper key, {"book": {...}}
    cursor: str | None = None
    total: str | None = None
    limit: str | None = None
    page: str | None = None
    offset: str | None = None
    has_more: str | None = None
    next: str | None = None  # the next page's URL, where the schema wants a link, not a token
    values: str | None = None  # items are this member's plain values ({"tags": ["a", "b"]})
    # Places left out of the answer when they have no value, their schema not allowing null
    # (Google's `nextPageToken` on the last page).
    optional: tuple[str, ...] = ()
    constants: tuple[tuple[str, Any], ...] = ()  # fixed parts, such as ("success", True)


@dataclass(frozen=True, slots=True)
class BodyFacts:
    """The top-level properties of a write's body item (inside its wrapper, if it has one)."""

    properties: frozenset[str] = frozenset()
    read_only: frozenset[str] = frozenset()
    # additionalProperties: None when not declared, False when closed, True when allowed.
    additional: bool | None = None


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """Where an account operation's body and answer carry their parts (in declared order)."""

    body_wrapper: str | None = None  # {"user": {...}} in
    body_properties: tuple[str, ...] = ()
    write_only: tuple[str, ...] = ()  # body properties marked writeOnly (a password)
    answer_wrapper: str | None = None  # {"user": {...}} out
    answer_properties: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SuccessAnswer:
    """The success response an operation answers with (the ASGI one is http.response.Response)."""

    status: int
    media_type: str | None
    schema: dict[str, Any] | None  # the item schema the rows are shaped by
    envelope: Envelope = field(default_factory=Envelope)
    shape: ItemShape | None = None
    urls: tuple[UrlSlot, ...] = ()  # properties the server fills with a URL (links.next)


@dataclass(frozen=True, slots=True)
class Owner:
    """Where a row's owner is: `column` of the row, or of the row `hops` reach."""

    column: str
    hops: tuple[Hop, ...] = ()
    declared: str = ""
    ignore_supplied: bool = False  # supplied-owner: ignore, a body's other owner is dropped
    visibility: Visibility = Visibility.PRIVATE

    @property
    def public(self) -> bool:
        """Whether anyone may read the rows (only their owner changes them)."""
        return self.visibility == Visibility.PUBLIC

    def describe(self) -> str:
        if not self.hops:
            return self.column
        return f"{'.'.join(h.target for h in self.hops)}.{self.column}"


@dataclass(frozen=True, slots=True)
class Operation:
    """One method on one path, and how it is served."""

    operation_id: str
    method: str
    path: str
    kind: Kind
    pointer: str
    resource: str | None = None
    params: tuple[Param, ...] = ()
    body_schema: dict[str, Any] | None = None  # raw, for the model's own use: see below
    body_media_types: tuple[str, ...] = ()
    body_required: bool = False
    response: SuccessAnswer | None = None
    error_statuses: frozenset[int] = frozenset()
    reason: str = ""  # why the operation is custom
    key_in_body: str | None = None  # PUT /pets with the key inside the body
    default_sort: tuple[str, ...] = ()
    page_size: int | None = None
    max_page_size: int | None = None
    summary: str = ""
    body_shape: ItemShape | None = None  # how the request body binds to columns and children
    body_wrapper: str | None = None  # {"book": {...}} in
    replace_children: bool = False
    link: Hop | None = None  # LINK/UNLINK: the relation whose row is added or removed
    link_caller: str | None = None  # the caller's link: the column that names the caller
    access: Access = field(default_factory=Access)
    ignore_unknown_fields: bool = False  # x-backsmith unknown-fields: ignore
    token_field: str | None = None  # accounts: x-backsmith token-field, where a token goes
    body_validation: Mapping[str, Any] | None = None  # JSON Schema 2020-12 of the body
    body_fields: BodyFacts | None = None  # what the body item names, for mass assignment
    account: AccountFacts | None = None  # register, login, refresh, logout, me
    policies: Policies = NO_POLICIES  # rate limit, idempotency, handler, latency budget
    # Hooks around a CRUD write: (moment, function, pointer of its declaration), in order.
    hooks: tuple[tuple[str, Handler, str], ...] = ()
    base_path: str = ""  # served under it, from `servers` (see model.servers); "" for none
    caller_scope: CallerScope | None = None  # x-backsmith where: rows related to the caller
    errors: ErrorAnswers = PROBLEM_ANSWERS  # the statuses and bodies its errors are answered in

    @property
    def pagination(self) -> str | None:
        roles = {p.role for p in self.params}
        for role in (ParamRole.CURSOR, ParamRole.PAGE, ParamRole.OFFSET):
            if role in roles:
                return str(role)
        return None


@dataclass(frozen=True, slots=True)
class Model:
    """A contract as backsmith understands it."""

    title: str
    version: str
    openapi_version: str
    resources: dict[str, Resource]
    operations: tuple[Operation, ...]
    document: dict[str, Any]  # the raw contract: read by contract/ and model/ only
    options: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    path: str = ""  # the contract file it was read from
    schemes: dict[str, Scheme] = field(default_factory=dict)
    accounts: Accounts | None = None  # the built-in accounts, when operations declare them
    owners: dict[str, Owner] = field(default_factory=dict)  # by table
    lifecycles: dict[str, Any] = field(default_factory=dict)  # by table: model.lifecycles
    # By table, the schema's hooks around writes: model.crud_hooks
    table_hooks: dict[str, tuple[tuple[str, Handler, str], ...]] = field(default_factory=dict)
    events: EventFacts = NO_EVENTS  # events published, tables audited, jobs scheduled
    # Operations whose security this version cannot verify, rendered: serve refuses them.
    security_gaps: tuple[str, ...] = ()
    findings: tuple[Issue, ...] = ()  # what serving will warn about or refuse (model.findings)
    # File and line of each operation and security scheme, for findings made at start-up.
    locations: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    published_openapi: bytes = b"{}"  # the contract as JSON, served as /openapi.json
    # By resource name, each field's property schema (flattened, narrowed by every response
    # serving its column): what generated values must pass.
    field_schemas: dict[str, dict[str, Mapping[str, Any]]] = field(default_factory=dict)
    base_path: BasePath = field(default_factory=BasePath)  # the root `servers`: model.servers
    converted_from: str | None = None  # "2.0": read as Swagger 2.0, served as `openapi_version`
    # File and line of every pointer of `document` that was read from a file, for findings
    # about any part of the contract (lint): see `locate`.
    positions: Mapping[str, tuple[str, int | None]] = field(default_factory=dict)

    def locate(self, pointer: str) -> tuple[str, int | None]:
        """File and line of `pointer`, or of its nearest located ancestor."""
        return nearest_position(self.positions, pointer, self.path)

    def resource_for_table(self, table: str) -> Resource | None:
        """The resource stored in `table`."""
        return next((r for r in self.resources.values() if r.table == table), None)

    @property
    def counts_callers(self) -> bool:
        """Whether a rate limit or the accounts' login limits count callers (in Redis when
        one is set): what several workers must share, and what /readyz checks Redis for."""
        return self.accounts is not None or any(
            op.policies.rate_limit is not None for op in self.operations
        )
