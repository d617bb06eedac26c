"""The closed sets of the model: field types, operation kinds, parameter roles and places."""

from __future__ import annotations

from enum import StrEnum


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


class Visibility(StrEnum):
    """Who may read an owned row; only its owner (or an admin role) ever changes it."""

    PRIVATE = "private"  # the owner only: another's row is not found (404)
    PUBLIC = "public"  # anyone, anonymous too: changing another's row is forbidden (403)


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
    """How backsmith verifies a security scheme (see backsmith.security.credentials)."""

    BEARER_JWT = "bearer-jwt"  # http bearer, oauth2, openIdConnect: a JWT in Authorization
    PREFIXED_JWT = "prefixed-jwt"  # apiKey in Authorization with another prefix (Token <jwt>)
    API_KEY = "api-key"  # apiKey in a header, query parameter or cookie, kept by backsmith
    BASIC = "basic"  # http basic, checked against the built-in accounts
    UNSUPPORTED = "unsupported"
