"""The parse step's compiled half: a request's parameters and body decoded and validated.

A `Parser` is built once per operation from the model; per request it only reads what
was compiled, and reports every error at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from backsmith.errors import BadRequest, UnsupportedMediaType, ValidationFailed
from backsmith.http.body_fields import BodyFields
from backsmith.http.body_screen import screen_body, screen_value
from backsmith.http.forms import FORM_MEDIA, FormReader
from backsmith.http.params import ParamDecoder, scalar
from backsmith.http.request import Request
from backsmith.http.validation import SchemaValidator
from backsmith.model.types import Field, FieldType, Kind, Model, Operation, Param, Resource
from backsmith.settings import Settings
from backsmith.storage.values import from_json

MERGE_PATCH = "application/merge-patch+json"

# The JSON type a path parameter's text is read as where the column it addresses is a number.
_NUMERIC = {FieldType.INTEGER: ("integer",), FieldType.NUMBER: ("number",)}


@dataclass(slots=True)
class Parsed:
    """A request's typed inputs."""

    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None


class Parser:
    """One operation's decoders and validators, compiled once."""

    def __init__(
        self,
        model: Model,
        operation: Operation,
        settings: Settings,
        resource: Resource | None,
        validation_status: int,
    ) -> None:
        self.operation = operation
        self.max_body_size = settings.max_body_size
        self.read_timeout = float(settings.read_timeout_seconds)
        self.max_body_depth = settings.max_body_depth
        self.resource = resource
        self.validation_status = validation_status
        self.decoders = [ParamDecoder(p) for p in operation.params]
        body_schema = operation.body_validation
        self.body_validator = (
            SchemaValidator(dict(body_schema)) if body_schema is not None else None
        )
        media = set(operation.body_media_types)
        if operation.kind == Kind.UPDATE:
            media |= {"application/json", MERGE_PATCH}
        self.body_media = frozenset(m.split(";")[0].strip().lower() for m in media)
        self.reads_query = any(d.param.location == "query" for d in self.decoders)
        self.reads_body = self.body_validator is not None or operation.body_required
        self.param_fields = _param_fields(model, operation, resource)
        # `{id}` declared a string over a numeric key: its text is read as the number
        self.numeric_path = {
            param.name: _NUMERIC[field.type]
            for param in operation.params
            if param.location == "path"
            and (field := self.param_fields.get(param.name)) is not None
            and field.type in _NUMERIC
        }
        wrapper = operation.body_wrapper
        self.body_pointer = f"#/{wrapper}" if wrapper else "#"
        self.body_fields = _body_fields(operation)
        self.forms = FormReader(body_schema)
        # An optional body left out: a write then means an empty object (defaults, no change).
        writes = operation.kind in (Kind.CREATE, Kind.REPLACE, Kind.UPDATE)
        empty: dict[str, Any] = {wrapper: {}} if wrapper else {}
        self.empty_body: Any = empty if writes else None

    async def parse(self, request: Request) -> Parsed:
        """Decode and validate parameters and body; every error is reported at once."""
        parsed = Parsed()
        errors: list[dict[str, Any]] = []
        refused: list[dict[str, Any]] = []  # parameters declared but not served
        query = request.query if self.reads_query else {}
        for decoder in self.decoders:
            param = decoder.param
            raw = _raw(request, param, query)
            if raw is not None and param.role == "refused":
                refused.append(_refused(param))
                continue
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
        if self.reads_body:
            parsed.body, body_errors = await self._body(request)
            errors.extend(body_errors)
        if refused:  # a request the service cannot answer as asked: 400, not a 422
            raise ValidationFailed(refused + errors, 400)
        if errors:
            raise ValidationFailed(errors, self.validation_status)
        return parsed

    def _to_column(self, param: Param, value: Any) -> tuple[Any, list[dict[str, Any]]]:
        field = self.param_fields.get(param.name)
        if field is None:
            return value, []
        numeric = self.numeric_path.get(param.name) if isinstance(value, str) else None
        if numeric:  # `/tag_groups/1.json` with `{id: {type: string}}` names row 1
            value = scalar(value, numeric)
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
        raw = await request.body(self.max_body_size, self.read_timeout)
        if not raw:
            if self.operation.body_required:
                return None, [{"detail": "a request body is required", "pointer": "#"}]
            return self.empty_body, []
        content_type = request.header(b"content-type") or ""
        media = content_type.split(";")[0].strip().lower()
        if media not in self.body_media:
            accepted = ", ".join(sorted(self.body_media)) or "none"
            raise UnsupportedMediaType(f"Send the body as one of: {accepted}.")
        errors: list[dict[str, Any]] = []
        if media in FORM_MEDIA:
            body, errors = self.forms.read(raw, content_type)
            if errors:
                return None, errors
            if screened := screen_value(body, self.max_body_depth):
                return None, screened
        else:
            if screened := screen_body(raw, self.max_body_depth):  # deep, or holding NUL
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


def _raw(request: Request, param: Param, query: dict[str, list[str]]) -> list[str] | None:
    if param.location == "path":
        value = request.path_params.get(param.name)
        return None if value is None else [value]
    if param.location == "query":
        return query.get(param.name)
    if param.location == "header":
        value = request.header(param.name.lower().encode("latin-1"))
        return None if value is None else [value]
    return None  # cookies are not read by CRUD operations


def _body_fields(operation: Operation) -> BodyFields | None:
    """The mass-assignment check of a create, replace or update."""
    facts = operation.body_fields
    if operation.kind not in (Kind.CREATE, Kind.REPLACE, Kind.UPDATE) or facts is None:
        return None
    fields = BodyFields(facts, operation.key_in_body, operation.ignore_unknown_fields)
    return fields if fields.checks else None


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


def _refused(param: Param) -> dict[str, Any]:
    return {
        "detail": f"the {param.location} parameter '{param.name}' cannot be served: "
        f"{param.reason}; send the request without it",
        "pointer": "#",
        "parameter": param.name,
        "in": param.location,
    }
