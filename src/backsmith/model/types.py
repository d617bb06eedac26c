"""The model in the middle: frozen resources, fields, relations and operations.

Everything downstream (storage, HTTP, verification) reads these, never the raw contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from backsmith.model.naming import snake


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    UUID = "uuid"
    DATETIME = "date-time"
    DATE = "date"
    ENUM = "enum"
    JSON = "json"
    ARRAY = "array"  # an array of scalars: a PostgreSQL array where DBML says so, else JSON
    BINARY = "binary"


class Generated(StrEnum):
    """Values the server sets, never the client."""

    UUID7 = "uuid7"
    AUTOINCREMENT = "autoincrement"
    CREATED = "created"
    UPDATED = "updated"


class Kind(StrEnum):
    LIST = "list"
    CREATE = "create"
    READ = "read"
    REPLACE = "replace"
    UPDATE = "update"
    DELETE = "delete"
    LINK = "link"  # add a row to a join table
    UNLINK = "unlink"  # remove it
    CUSTOM = "custom"
    # Built-in accounts (x-backsmith kind), over the contract's accounts table.
    REGISTER = "register"
    LOGIN = "login"
    REFRESH = "refresh"
    LOGOUT = "logout"
    ME = "me"


ACCOUNT_KINDS = frozenset({Kind.REGISTER, Kind.LOGIN, Kind.REFRESH, Kind.LOGOUT, Kind.ME})


class ParamRole(StrEnum):
    """What a declared parameter does for its operation (not a caller's role)."""

    KEY = "key"  # addresses the item
    SCOPE = "scope"  # a parent in the path: /authors/{id}/books
    FILTER = "filter"
    LIMIT = "limit"
    CURSOR = "cursor"
    PAGE = "page"
    OFFSET = "offset"
    SORT = "sort"
    ORDER = "order"
    TARGET = "target"  # a link's other row: PUT /books/{id}/genres/{genreId}
    OTHER = "other"  # declared, not acted on


class ParamLocation(StrEnum):
    PATH = "path"
    QUERY = "query"
    HEADER = "header"
    COOKIE = "cookie"


class HopKind(StrEnum):
    ONE = "one"  # the foreign key is on the source
    MANY = "many"  # the foreign key is on the target
    THROUGH = "through"  # a join table links the two


class SchemeKind(StrEnum):
    """How backsmith verifies a security scheme (see backsmith.http.credentials)."""

    BEARER_JWT = "bearer-jwt"  # http bearer, oauth2, openIdConnect: a JWT in Authorization
    PREFIXED_JWT = "prefixed-jwt"  # apiKey in Authorization with another prefix (Token <jwt>)
    API_KEY = "api-key"  # apiKey in a header, query parameter or cookie, kept by backsmith
    BASIC = "basic"  # http basic, checked against the built-in accounts
    UNSUPPORTED = "unsupported"


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
class Hop:
    """One step from `source` rows to related `target` rows.

    one:     source.source_columns = target.target_columns (the foreign key is on source)
    many:    source.source_columns = target.target_columns (the foreign key is on target)
    through: source.source_columns = join.join_source and join.join_target =
             target.target_columns (a join table links the two)
    """

    kind: HopKind
    source: str
    target: str
    source_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    join: str | None = None
    join_source: tuple[str, ...] = ()
    join_target: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def to_many(self) -> bool:
        return self.kind != HopKind.ONE

    def describe(self) -> str:
        if self.kind == HopKind.THROUGH:
            return f"{self.target} through {self.join}"
        one = self.kind == HopKind.ONE
        columns = ", ".join(self.source_columns if one else self.target_columns)
        return f"{self.target} by {columns}"


@dataclass(frozen=True, slots=True)
class Computed:
    """A value computed in SQL from related rows, never stored."""

    function: str  # count, exists, sum
    hop: Hop  # many (rows of the target) or through (rows of the join table)
    terms: tuple[str, ...] = ()  # sum: columns multiplied together, on the target table
    principal: str | None = None  # exists: the column of the related rows naming the caller

    def describe(self) -> str:
        rows = self.hop.join if self.hop.kind == HopKind.THROUGH else self.hop.target
        if self.function == "sum":
            return f"sum({' * '.join(self.terms)}) over {self.hop.target}"
        if self.function == "exists":
            return f"exists({rows} where {self.principal} = caller)"
        return f"count({rows})"


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
    """A declared parameter and the role conventions gave it."""

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


@dataclass(frozen=True, slots=True)
class Response:
    """The success response an operation answers with."""

    status: int
    media_type: str | None
    schema: dict[str, Any] | None  # the item schema the rows are shaped by
    envelope: Envelope = field(default_factory=Envelope)
    shape: ItemShape | None = None


# The scheme kinds under their earlier names.
BEARER_JWT = SchemeKind.BEARER_JWT
PREFIXED_JWT = SchemeKind.PREFIXED_JWT
API_KEY = SchemeKind.API_KEY
BASIC = SchemeKind.BASIC
UNSUPPORTED = SchemeKind.UNSUPPORTED


@dataclass(frozen=True, slots=True)
class Scheme:
    """One entry of `components.securitySchemes`, as backsmith verifies it."""

    name: str
    kind: SchemeKind
    type: str  # as declared: http, apiKey, oauth2, openIdConnect, mutualTLS
    location: ParamLocation = ParamLocation.HEADER  # apiKey: header, query or cookie
    parameter: str = "authorization"  # the header, query parameter or cookie carrying it
    prefix: str = "Bearer"  # the word before the token in Authorization
    scoped: bool = False  # oauth2 and openIdConnect: requirement lists are token scopes
    reason: str = ""  # why it is unsupported


Requirement = tuple[tuple[str, tuple[str, ...]], ...]  # (scheme, scopes or roles) all needed


@dataclass(frozen=True, slots=True)
class Access:
    """Who may call one operation."""

    requirements: tuple[Requirement, ...] | None = None  # None: the contract says nothing
    roles: tuple[str, ...] = ()  # x-backsmith roles: the caller needs one of them
    public: bool = False  # x-backsmith public: open on purpose

    @property
    def anonymous(self) -> bool:
        """Whether a caller with no credentials is admitted by the requirements."""
        return self.requirements is None or any(not r for r in self.requirements)

    @property
    def secured(self) -> bool:
        """Whether any credential is asked for (requirements or roles)."""
        return bool(self.roles) or not self.anonymous


@dataclass(frozen=True, slots=True)
class Owner:
    """Where a row's owner is: `column` of the row, or of the row `hops` reach."""

    column: str
    hops: tuple[Hop, ...] = ()
    declared: str = ""
    ignore_supplied: bool = False  # supplied-owner: ignore, a body's other owner is dropped

    def describe(self) -> str:
        if not self.hops:
            return self.column
        return f"{'.'.join(h.target for h in self.hops)}.{self.column}"


@dataclass(frozen=True, slots=True)
class Accounts:
    """The table the built-in accounts live in, and how a caller names theirs."""

    table: str
    identifiers: tuple[str, ...]  # unique columns a login may name the account by (email)
    password_column: str  # holds the argon2id hash, never a password
    roles_column: str | None = None  # a column listing the account's roles, if there is one


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
    body_schema: dict[str, Any] | None = None
    body_media_types: tuple[str, ...] = ()
    body_required: bool = False
    response: Response | None = None
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
    link_principal: str | None = None  # the caller's link: the column that names the caller
    access: Access = field(default_factory=Access)
    ignore_unknown_fields: bool = False  # x-backsmith unknown-fields: ignore
    token_field: str | None = None  # accounts: x-backsmith token-field, where a token goes

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
    document: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    path: str = ""  # the contract file it was read from
    schemes: dict[str, Scheme] = field(default_factory=dict)
    accounts: Accounts | None = None  # the built-in accounts, when operations declare them
    owners: dict[str, Owner] = field(default_factory=dict)  # by table
    # Operations whose security this version cannot verify, rendered: serve refuses them.
    security_gaps: tuple[str, ...] = ()

    def resource_for_table(self, table: str) -> Resource | None:
        """The resource stored in `table`."""
        return next((r for r in self.resources.values() if r.table == table), None)
