"""The model in the middle: frozen resources, fields, relations and operations.

Everything downstream (storage, HTTP, verification) reads these, never the raw contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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
    CUSTOM = "custom"


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

    def field(self, name: str) -> Field | None:
        """The field with API name or column `name`."""
        for item in self.fields:
            if item.name == name or item.column == name:
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
    location: str  # path, query, header, cookie
    required: bool
    schema: dict[str, Any]
    role: str = (
        "other"  # key, scope, filter, limit, cursor, page, per-page, offset, sort, order, other
    )
    column: str | None = None
    style: str = "form"
    explode: bool = True


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


@dataclass(frozen=True, slots=True)
class Response:
    """The success response an operation answers with."""

    status: int
    media_type: str | None
    schema: dict[str, Any] | None  # the item schema the rows are shaped by
    envelope: Envelope = field(default_factory=Envelope)


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

    @property
    def pagination(self) -> str | None:
        roles = {p.role for p in self.params}
        if "cursor" in roles:
            return "cursor"
        if "page" in roles:
            return "page"
        if "offset" in roles:
            return "offset"
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
