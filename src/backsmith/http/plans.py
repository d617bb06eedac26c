"""Per-operation plans compiled at start-up: decoders, validators, shapers, statements.

The request path only looks a plan up and runs it; nothing here runs per request except
`OperationPlan.parse`, which uses what was compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from backsmith.errors import BadRequest, UnsupportedMediaType, ValidationFailed
from backsmith.http.access import Guard
from backsmith.http.accounts import AccountPlan, AccountStore
from backsmith.http.body_fields import BodyFields
from backsmith.http.body_screen import screen_body
from backsmith.http.credentials import KeyStore, Reader, credentials_for
from backsmith.http.ownership import Ownership
from backsmith.http.params import ParamDecoder
from backsmith.http.request import Request
from backsmith.http.shaping import Shaper
from backsmith.http.tokens import TokenVerifier
from backsmith.http.validation import SchemaValidator
from backsmith.http.writes import Children, Stamps, children_of, writable_fields
from backsmith.model.schemas import JsonSchemaConverter, flatten
from backsmith.model.types import (
    ACCOUNT_KINDS,
    Field,
    Kind,
    Model,
    Operation,
    Param,
    Resource,
)
from backsmith.settings import Settings
from backsmith.storage.api_keys import KEYS_TABLE
from backsmith.storage.queries import Ordering, TableQueries, from_json, order_keys

MERGE_PATCH = "application/merge-patch+json"


@dataclass(slots=True)
class Parsed:
    """A request's typed inputs."""

    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None


@dataclass(slots=True)
class Converters:
    request: JsonSchemaConverter
    response: JsonSchemaConverter


class OperationPlan:
    """Everything one operation needs at request time, built once."""

    def __init__(
        self,
        model: Model,
        operation: Operation,
        settings: Settings,
        tables: dict[str, sa.Table],
        converters: Converters,
        credentials: dict[str, Reader],
        accounts: AccountStore | None = None,
    ) -> None:
        self.operation = operation
        self.settings = settings
        self.resource: Resource | None = (
            model.resources[operation.resource] if operation.resource else None
        )
        account_kind = operation.kind in ACCOUNT_KINDS
        if account_kind and self.resource is None and accounts is not None:
            self.resource = accounts.resource  # login and refresh bodies name no table
        self.account = (
            AccountPlan(operation, accounts, model.document)
            if account_kind and accounts is not None
            else None
        )
        document = model.document
        self.validation_status = (
            422 if 422 in operation.error_statuses or (400 not in operation.error_statuses) else 400
        )
        self.decoders: list[ParamDecoder] = [
            ParamDecoder(p, document, converters.request) for p in operation.params
        ]
        self.body_validator = (
            SchemaValidator(converters.request.root(operation.body_schema))
            if operation.body_schema is not None
            else None
        )
        media = set(operation.body_media_types)
        if operation.kind == Kind.UPDATE:
            media |= {"application/json", MERGE_PATCH}
        self.body_media = frozenset(m.split(";")[0].strip().lower() for m in media)
        self.reads_query = any(d.param.location == "query" for d in self.decoders)
        self.roles = {p.role: p.name for p in operation.params}
        self.pagination = operation.pagination
        self.addressing = [
            (p.name, p.column)
            for p in operation.params
            if p.role in ("key", "scope") and p.column and not p.hops
        ]
        self.scopes_across = [p for p in operation.params if p.role == "scope" and p.hops]
        self.filters = [
            (p.name, p.column)
            for p in operation.params
            if p.role == "filter" and p.column and not p.hops
        ]
        self.filters_across = [
            p for p in operation.params if p.role == "filter" and (p.hops or p.computed)
        ]
        self.tables = tables
        self.needs_caller = operation.link_principal is not None or _uses_caller(operation)
        self.param_fields = _param_fields(model, operation, self.resource)
        self.default_order = Ordering(())
        self.queries: TableQueries | None = None
        self.shaper: Shaper | None = None
        self.writable: dict[str, Field] = {}
        self.body_names: dict[str, str] = {}  # column -> the body property that writes it
        self.children: list[Children] = []
        self.derive: tuple[tuple[str, str], ...] = ()
        self.stamps: Stamps | None = None
        self.link_queries: TableQueries | None = None
        self.link_stamps: Stamps | None = None
        # The table the caller's link refers to (users), to tell an unknown caller apart.
        self.callers_queries: TableQueries | None = None
        self.caller_key: str | None = None
        wrapper = operation.body_wrapper
        self.body_pointer = f"#/{wrapper}" if wrapper else "#"
        self.body_fields = _body_fields(model, operation)
        self.target_queries: TableQueries | None = None
        self.target_param: Param | None = None
        self.answers_target = False
        self.location: list[tuple[str, str]] = []  # (path template, key column per param)
        self.location_template = ""
        # Parent rows a nested path names: (path parameter, parent table, parent column).
        self.parents: list[tuple[str, TableQueries, str]] = []
        self.parent_owners: list[Ownership | None] = []  # each parent's owner, if it has one
        if self.resource is not None and operation.kind != Kind.CUSTOM:
            self.parents = self._plan_parents(tables)
            for _, parent, _ in self.parents:
                parent_owner = model.owners.get(parent.table.name)
                self.parent_owners.append(
                    Ownership(parent_owner, parent.table, tables) if parent_owner else None
                )
            self.queries = TableQueries(tables[self.resource.table])
            response = operation.response
            if response is not None and response.shape is not None:
                self.shaper = Shaper(response.shape, model, tables)
            self.writable = writable_fields(self.resource, operation.body_shape)
            if self.account is not None:  # the hash and the roles are never the client's
                kept = self.account.store.accounts
                for name, written in list(self.writable.items()):
                    if written.column in (kept.password_column, kept.roles_column):
                        del self.writable[name]
            self.body_names = {f.column: name for name, f in self.writable.items()}
            self.children = children_of(
                operation.body_shape, model, tables, operation.replace_children
            )
            shapes = [operation.body_shape, response.shape if response else None]
            self.derive = next((s.derive for s in shapes if s is not None and s.derive), ())
            table = tables[self.resource.table]
            self.default_order = order_keys(table, self.resource, operation.default_sort)
            self.stamps = Stamps(self.resource)
            if operation.kind == Kind.CREATE:
                self._plan_location(model)
            if operation.link is not None:
                hop = operation.link
                link_table = hop.join or hop.target
                self.link_queries = TableQueries(tables[link_table])
                link_resource = model.resource_for_table(link_table)
                assert link_resource is not None
                self.link_stamps = Stamps(link_resource)
                self.target_param = next((p for p in operation.params if p.role == "target"), None)
                # A link answers with the linked row when its response is shaped as that table.
                self.answers_target = (
                    hop.kind == "through"
                    and self.shaper is not None
                    and self.shaper.table.name == hop.target
                )
                for relation in link_resource.relations:
                    if relation.columns == (operation.link_principal,):
                        self.callers_queries = TableQueries(tables[relation.target])
                        self.caller_key = relation.target_columns[0]
                if hop.kind == "through":
                    self.target_queries = TableQueries(tables[hop.target])
        self._plan_access(model, settings, tables, credentials)

    def _plan_access(
        self,
        model: Model,
        settings: Settings,
        tables: dict[str, sa.Table],
        credentials: dict[str, Reader],
    ) -> None:
        """The guard, and the owner conditions every statement of the operation carries."""
        operation = self.operation
        self.ownership: Ownership | None = None
        # Links: the parent row (a customer) and the linked row may each belong to someone.
        self.link_owners: tuple[Ownership | None, Ownership | None] = (None, None)
        resource = self.resource
        if resource is not None and operation.kind in (Kind.LINK, Kind.UNLINK):
            hop = operation.link
            assert hop is not None
            parent, target = model.owners.get(resource.table), model.owners.get(hop.target)
            self.link_owners = (
                Ownership(parent, tables[resource.table], tables) if parent else None,
                Ownership(target, tables[hop.target], tables)
                if target and hop.kind == "through"
                else None,
            )
        elif resource is not None and operation.kind != Kind.CUSTOM:
            owner = model.owners.get(resource.table)  # declared, or inherited from a path
            if owner is not None:
                self.ownership = Ownership(owner, tables[resource.table], tables)
        needs_caller = (
            self.ownership is not None
            or any(self.link_owners)
            or any(self.parent_owners)
            or operation.kind == Kind.ME
        )
        lenient = operation.kind == Kind.LOGOUT
        self.guard = Guard(
            operation.access, credentials, settings.admin_role_names, needs_caller, lenient
        )
        # Whether requests are admitted by the guard first: not for an open operation that
        # nothing about the caller changes. Logout reads a caller who sends a token.
        self.guarded = (
            not self.guard.anonymous or self.needs_caller or operation.kind == Kind.LOGOUT
        )

    @property
    def page_size(self) -> int:
        return self.operation.page_size or self.settings.page_size

    @property
    def max_page_size(self) -> int:
        return self.operation.max_page_size or self.settings.max_page_size

    def _plan_location(self, model: Model) -> None:
        assert self.resource is not None
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
        self.location_template = read.path
        self.location = [(p.name, p.column or "") for p in read.params if p.location == "path"]

    def _plan_parents(self, tables: dict[str, sa.Table]) -> list[tuple[str, TableQueries, str]]:
        assert self.resource is not None
        parents = []
        for param in self.operation.params:
            if param.role != "scope":
                continue
            if param.hops and param.column:
                parent_table = tables[param.hops[-1].target]
                parents.append((param.name, TableQueries(parent_table), param.column))
                continue
            for relation in self.resource.relations:
                if relation.columns == (param.column,) and relation.target in tables:
                    target = TableQueries(tables[relation.target])
                    parents.append((param.name, target, relation.target_columns[0]))
        return parents

    def location_of(self, row: Any) -> str | None:
        if not self.location_template:
            return None
        path = self.location_template
        for name, column in self.location:
            path = path.replace(f"{{{name}}}", str(row[column]) if column in row else "")
        return path

    # ------------------------------------------------------------- parsing
    async def parse(self, request: Request) -> Parsed:
        """Decode and validate parameters and body; every error is reported at once."""
        parsed = Parsed()
        errors: list[dict[str, Any]] = []
        query = request.query if self.reads_query else {}
        for decoder in self.decoders:
            param = decoder.param
            raw = self._raw(request, param, query)
            if raw is None:
                if param.required:
                    errors.append(_missing(param))
                elif decoder.default is not None and param.role in ("filter", "limit"):
                    parsed.query[param.name] = decoder.default
                continue
            value = decoder.decode(raw)
            found = decoder.errors(value)
            if not found and param.column and self.resource is not None:
                value, found = self._to_column(param, value)
            errors.extend(found)
            (parsed.path if param.location == "path" else parsed.query)[param.name] = value
        if self.body_validator is not None or self.operation.body_required:
            parsed.body, body_errors = await self._body(request)
            errors.extend(body_errors)
        if errors:
            raise ValidationFailed(errors, self.validation_status)
        return parsed

    def _raw(self, request: Request, param: Param, query: dict[str, list[str]]) -> list[str] | None:
        if param.location == "path":
            value = request.path_params.get(param.name)
            return None if value is None else [value]
        if param.location == "query":
            return query.get(param.name)
        if param.location == "header":
            value = request.header(param.name.lower().encode("latin-1"))
            return None if value is None else [value]
        return None  # cookies are not read by CRUD operations

    def _to_column(self, param: Param, value: Any) -> tuple[Any, list[dict[str, Any]]]:
        field = self.param_fields.get(param.name)
        if field is None:
            return value, []
        try:
            if isinstance(value, list):
                return [from_json(field, v) for v in value], []
            return from_json(field, value), []
        except (TypeError, ValueError, ArithmeticError):
            return value, [
                {
                    "detail": f"not a valid {field.type} for {field.name}",
                    "pointer": "#",
                    "parameter": param.name,
                    "in": param.location,
                }
            ]

    async def _body(self, request: Request) -> tuple[Any, list[dict[str, Any]]]:
        raw = await request.body(self.settings.max_body_size)
        if not raw:
            if self.operation.body_required:
                return None, [{"detail": "a request body is required", "pointer": "#"}]
            return None, []
        media = (request.header(b"content-type") or "").split(";")[0].strip().lower()
        if media not in self.body_media:
            accepted = ", ".join(sorted(self.body_media)) or "none"
            raise UnsupportedMediaType(f"Send the body as one of: {accepted}.")
        if screened := screen_body(raw, self.settings.max_body_depth):  # deep, or NUL
            return None, screened
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"The body is not valid JSON: {exc}.") from None
        errors = self.body_validator.errors(body) if self.body_validator is not None else []
        if self.body_fields is not None:
            wrapper = self.operation.body_wrapper
            item = body.get(wrapper) if wrapper and isinstance(body, dict) else body
            errors.extend(self.body_fields.errors(item, self.body_pointer))
        return body, errors


def _body_fields(model: Model, operation: Operation) -> BodyFields | None:
    """The mass-assignment check of a create, replace or update."""
    if operation.kind not in (Kind.CREATE, Kind.REPLACE, Kind.UPDATE):
        return None
    schema = operation.body_schema
    if operation.body_wrapper and isinstance(schema, dict):
        properties = flatten(model.document, schema).get("properties") or {}
        schema = properties.get(operation.body_wrapper)
    fields = BodyFields(
        model.document, schema, operation.key_in_body, operation.ignore_unknown_fields
    )
    return fields if fields.checks else None


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


def _param_fields(
    model: Model, operation: Operation, resource: Resource | None
) -> dict[str, Field]:
    """The field each parameter's value is converted for: on its own table or a related one."""
    found = {}
    for param in operation.params:
        owner = resource
        if param.hops:
            owner = model.resource_for_table(param.hops[-1].target)
        elif param.role == "target" and operation.link is not None:
            owner = model.resource_for_table(operation.link.target)
        field = owner.field(param.column) if owner is not None and param.column else None
        if field is not None:
            found[param.name] = field
    return found


def _missing(param: Param) -> dict[str, Any]:
    return {
        "detail": f"required {param.location} parameter '{param.name}' is missing",
        "pointer": "#",
        "parameter": param.name,
        "in": param.location,
    }


def compile_plans(
    model: Model,
    settings: Settings,
    tables: dict[str, sa.Table],
    database: Callable[[], Any] = lambda: None,
) -> dict[str, OperationPlan]:
    """A plan per operationId."""
    converters = Converters(
        JsonSchemaConverter(model.document, model.openapi_version, "request"),
        JsonSchemaConverter(model.document, model.openapi_version, "response"),
    )
    keys = tables.get(KEYS_TABLE)
    store = KeyStore(TableQueries(keys) if keys is not None else None, database)
    accounts = None
    if model.accounts is not None:
        resource = model.resource_for_table(model.accounts.table)
        assert resource is not None
        accounts = AccountStore(model.accounts, resource, tables, settings, database)
    credentials = credentials_for(model.schemes, TokenVerifier(settings), store, accounts)
    return {
        op.operation_id: OperationPlan(
            model, op, settings, tables, converters, credentials, accounts
        )
        for op in model.operations
    }
