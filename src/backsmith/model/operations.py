"""Conventions that map each declared operation to a CRUD kind over a resource."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backsmith.contract.source import escape
from backsmith.model.naming import names_match, singular, snake
from backsmith.model.schemas import component_name, deref, flatten, schema_types
from backsmith.model.types import (
    Envelope,
    FieldType,
    Generated,
    Kind,
    Operation,
    Param,
    Resource,
    Response,
)

LIMIT_NAMES = frozenset({"limit", "page_size", "per_page", "size", "max_results", "top", "first"})
CURSOR_NAMES = frozenset(
    {"cursor", "after", "page_token", "next_token", "starting_after", "continuation_token"}
)
PAGE_NAMES = frozenset({"page", "page_number", "page_no"})
OFFSET_NAMES = frozenset({"offset", "skip", "start"})
SORT_NAMES = frozenset({"sort", "sort_by", "order_by", "ordering", "orderby", "sortby"})
ORDER_NAMES = frozenset({"order", "direction", "sort_order", "dir", "sort_direction"})

ENVELOPE_NAMES: dict[str, frozenset[str]] = {
    "cursor": frozenset(
        {"next_cursor", "cursor", "next", "next_page_token", "continuation_token", "end_cursor"}
    ),
    "total": frozenset({"total", "count", "total_count", "total_items", "total_results"}),
    "limit": frozenset({"limit", "per_page", "page_size"}),
    "page": frozenset({"page", "page_number", "current_page"}),
    "offset": frozenset({"offset", "skip"}),
    "has_more": frozenset({"has_more", "has_next", "more"}),
}
JSON_MEDIA = ("application/json", "application/merge-patch+json")
UNFILTERABLE = frozenset({FieldType.JSON, FieldType.ARRAY, FieldType.BINARY})


def json_content(content: Any) -> tuple[str | None, Any]:
    """The JSON media type of a `content` map and its schema, preferring application/json."""
    if not isinstance(content, dict):
        return None, None
    media_types = [m for m in content if m.split(";")[0].strip().endswith("json")]
    if not media_types:
        return None, None
    media = "application/json" if "application/json" in media_types else media_types[0]
    body = content[media] if isinstance(content[media], dict) else {}
    return media, body.get("schema", {})


@dataclass
class _Shape:
    item_schema: Any
    envelope: Envelope
    is_list: bool
    schema_name: str | None


class OperationMapper:
    """Classifies operations given the resources and which schema each one is served as."""

    def __init__(
        self,
        document: dict[str, Any],
        resources: dict[str, Resource],
        schema_resources: dict[str, str],
    ) -> None:
        self.document = document
        self.resources = resources
        self.schema_resources = schema_resources

    # ------------------------------------------------------------------ shapes
    def shape_of(self, schema: Any) -> _Shape:
        """How a response schema carries rows: one item, a bare array, an envelope, a wrapper."""
        name = component_name(schema)
        if name in self.schema_resources:
            return _Shape(schema, Envelope(), False, name)
        flat = flatten(self.document, schema)
        types = schema_types(flat)
        if "array" in types:
            items = flat.get("items", {})
            return _Shape(items, Envelope(), True, component_name(items))
        properties = flat.get("properties", {})
        arrays = {
            key: flatten(self.document, value).get("items")
            for key, value in properties.items()
            if "array" in schema_types(flatten(self.document, value))
        }
        items_key = next(
            (k for k, v in arrays.items() if component_name(v) in self.schema_resources), None
        )
        if items_key is None and len(arrays) == 1:
            candidate = next(iter(arrays))
            if "object" in schema_types(flatten(self.document, arrays[candidate])):
                items_key = candidate
        if items_key is not None:
            meta = {
                role: next((k for k in properties if snake(k) in names and k != items_key), None)
                for role, names in ENVELOPE_NAMES.items()
            }
            if meta["total"] is None:
                meta["total"] = next(
                    (k for k in properties if snake(k) == f"{snake(items_key)}_count"), None
                )
            envelope = Envelope(items=items_key, **meta)
            return _Shape(arrays[items_key], envelope, True, component_name(arrays[items_key]))
        wrapped = [k for k, v in properties.items() if component_name(v) in self.schema_resources]
        if len(properties) == 1 and wrapped:
            inner = properties[wrapped[0]]
            return _Shape(inner, Envelope(wrapper=wrapped[0]), False, component_name(inner))
        return _Shape(schema, Envelope(), False, name)

    # --------------------------------------------------------------- mapping
    def map(self, path: str, method: str, item: dict[str, Any], op: dict[str, Any]) -> Operation:
        pointer = f"/paths/{escape(path)}/{method}"
        ext = {**(item.get("x-backsmith") or {}), **(op.get("x-backsmith") or {})}
        operation_id = op.get("operationId") or f"{method}_{snake(path) or 'root'}"
        params = self._params(item, op)
        responses = op.get("responses") or {}
        statuses = sorted(str(code) for code in responses)
        success = [s for s in statuses if s.startswith("2")]
        errors = frozenset(int(s) for s in statuses if s.isdigit() and s[0] in "45")
        body_media, body_schema, body_required = self._body(op)
        base = {
            "operation_id": operation_id,
            "method": method.upper(),
            "path": path,
            "pointer": pointer,
            "error_statuses": errors,
            "summary": str(op.get("summary") or ""),
            "body_schema": body_schema,
            "body_media_types": body_media,
            "body_required": body_required,
        }

        def custom(reason: str, resource: str | None = None) -> Operation:
            plain = tuple(params)
            return Operation(
                kind=Kind.CUSTOM, reason=reason, resource=resource, params=plain, **base
            )

        if ext.get("kind") == "custom":
            return custom("declared custom with x-backsmith kind")
        if method not in {"get", "post", "put", "patch", "delete"}:
            return custom(f"{method.upper()} is not a CRUD method")

        response_status, response_media, response_schema = self._success(responses, success)
        shape = self.shape_of(response_schema) if response_schema else None
        resource = self._resource(ext, shape, body_schema, path)
        if resource is None:
            return custom("no resource: its schemas and path match no table")
        segments = [s for s in path.strip("/").split("/") if s]
        is_item = bool(segments) and segments[-1].startswith("{")
        kind = self._kind(ext, method, is_item, shape, resource, segments, body_schema)
        if not isinstance(kind, Kind):
            return custom(kind, resource.name)
        if kind in (Kind.CREATE, Kind.REPLACE, Kind.UPDATE) and body_schema is None:
            if body_media == () and op.get("requestBody"):
                return custom("request body is not JSON", resource.name)
            return custom("a write without a JSON request body", resource.name)
        roles = self._roles(params, resource, segments, kind, is_item)
        if isinstance(roles, str):
            return custom(roles, resource.name)
        key_in_body = None
        if kind in (Kind.REPLACE, Kind.UPDATE) and not is_item:
            key_in_body = resource.key.name
        status = self._status(kind, success, response_status)
        item_schema = shape.item_schema if shape else None
        if item_schema is not None and not flatten(self.document, item_schema).get("properties"):
            item_schema = None
        envelope = shape.envelope if shape else Envelope()
        response = Response(status, response_media, item_schema, envelope)
        return Operation(
            kind=kind,
            resource=resource.name,
            params=roles,
            response=response,
            key_in_body=key_in_body,
            default_sort=self._default_sort(ext, resource) if kind == Kind.LIST else (),
            page_size=ext.get("page-size"),
            max_page_size=ext.get("max-page-size"),
            **base,
        )

    def _params(self, item: dict[str, Any], op: dict[str, Any]) -> list[Param]:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
            param = deref(self.document, raw)
            if isinstance(param, dict) and "name" in param and "in" in param:
                merged[(param["name"], param["in"])] = param
        params = []
        for (name, location), param in merged.items():
            schema = param.get("schema")
            if schema is None:
                _, schema = json_content(param.get("content"))
            style = param.get("style") or ("form" if location in ("query", "cookie") else "simple")
            params.append(
                Param(
                    name=name,
                    location=location,
                    required=bool(param.get("required")) or location == "path",
                    schema=schema if isinstance(schema, dict) else {},
                    style=style,
                    explode=param.get("explode", style == "form"),
                )
            )
        return params

    def _body(self, op: dict[str, Any]) -> tuple[tuple[str, ...], Any, bool]:
        body = deref(self.document, op.get("requestBody"))
        if not isinstance(body, dict):
            return (), None, False
        content = body.get("content") or {}
        media = tuple(m for m in content if m.split(";")[0].strip().endswith("json"))
        _, schema = json_content(content)
        return media, schema, bool(body.get("required"))

    def _success(
        self, responses: dict[str, Any], success: list[str]
    ) -> tuple[int | None, str | None, Any]:
        for status in success:
            response = deref(self.document, responses[status])
            media, schema = json_content(
                response.get("content") if isinstance(response, dict) else None
            )
            if media is not None:
                return int(status), media, schema
        return (int(success[0]) if success and success[0].isdigit() else None), None, None

    def _resource(
        self, ext: dict[str, Any], shape: _Shape | None, body: Any, path: str
    ) -> Resource | None:
        if isinstance(ext.get("resource"), str):
            return self.resources.get(ext["resource"])
        names = [shape.schema_name if shape else None, component_name(body)]
        for name in names:
            if name in self.schema_resources:
                return self.resources[self.schema_resources[name]]
        for name in names:  # BookCreate, NewBook, BookPatch -> Book
            base = _strip_affixes(name) if name else None
            if base in self.schema_resources:
                return self.resources[self.schema_resources[base]]
        statics = [s for s in path.strip("/").split("/") if s and not s.startswith("{")]
        parent = statics[-2] if len(statics) > 1 else ""
        for resource in self.resources.values():
            if statics and self._segment_names(statics[-1], resource, parent):
                return resource
        return None

    def _kind(
        self,
        ext: dict[str, Any],
        method: str,
        is_item: bool,
        shape: _Shape | None,
        resource: Resource,
        segments: list[str],
        body: Any,
    ) -> Kind | str:
        if ext.get("kind"):
            return Kind(ext["kind"])
        statics = [s for s in segments if not s.startswith("{")]
        named_segment = segments[-2] if is_item and len(segments) > 1 else (statics or [""])[-1]
        parent = statics[-2] if len(statics) > 1 else ""
        names_resource = self._segment_names(named_segment, resource, parent)
        if method == "get" and not is_item:
            if shape is not None and shape.is_list:
                return Kind.LIST
            return "GET on a collection path that does not return a list"
        if not names_resource:
            return f"'{'/'.join(segments)}' is not a collection or item path of {resource.name}"
        if not is_item:
            if method == "post":
                if "array" in schema_types(flatten(self.document, body)):
                    return "creates several items at once"
                return Kind.CREATE
            if method in ("put", "patch") and resource.key.name in flatten(self.document, body).get(
                "properties", {}
            ):
                return Kind.REPLACE if method == "put" else Kind.UPDATE
            return f"{method.upper()} on a collection path"
        return {
            "get": Kind.READ,
            "put": Kind.REPLACE,
            "patch": Kind.UPDATE,
            "delete": Kind.DELETE,
        }.get(method, "POST on an item path")

    def _segment_names(self, segment: str, resource: Resource, parent: str) -> bool:
        if segment.startswith("{"):
            return False
        candidates = [resource.name, resource.table, resource.schema or ""]
        if any(c and names_match(segment, c) for c in candidates):
            return True
        joined = f"{singular(snake(parent))}_{snake(segment)}" if parent else ""
        return bool(joined) and any(c and names_match(joined, c) for c in candidates)

    def _roles(
        self,
        params: list[Param],
        resource: Resource,
        segments: list[str],
        kind: Kind,
        is_item: bool,
    ) -> tuple[Param, ...] | str:
        out: list[Param] = []
        path_params = [s[1:-1] for s in segments if s.startswith("{") and s.endswith("}")]
        for param in params:
            role, column = "other", None
            if param.location == "path":
                if is_item and param.name == path_params[-1]:
                    role, column = "key", self._key_column(resource, param.name)
                else:
                    column = self._scope_column(resource, segments, param.name)
                    if column is None:
                        return f"cannot tell which column path parameter '{param.name}' scopes"
                    role = "scope"
            elif param.location == "query" and kind == Kind.LIST:
                role, column = self._query_role(param, resource)
                if role == "unfilterable":
                    return f"cannot filter on '{param.name}' ({resource.field(param.name).type})"  # type: ignore[union-attr]
            out.append(
                Param(param.name, param.location, param.required, param.schema, role, column)
                if role != "other"
                else param
            )
        return tuple(out)

    def _key_column(self, resource: Resource, name: str) -> str:
        field = resource.field(name) or resource.field(snake(name))
        if field is not None and not field.hidden:
            return field.column
        return resource.key.column

    def _scope_column(self, resource: Resource, segments: list[str], name: str) -> str | None:
        index = segments.index(f"{{{name}}}")
        parent_segment = segments[index - 1] if index > 0 else ""
        for relation in resource.relations:
            if names_match(parent_segment, relation.target) and len(relation.columns) == 1:
                return relation.columns[0]
        field = resource.field(name) or resource.field(snake(name))
        return field.column if field is not None else None

    def _query_role(self, param: Param, resource: Resource) -> tuple[str, str | None]:
        name = snake(param.name)
        field = resource.field(param.name) or resource.field(name)
        if field is not None and not field.hidden and not field.write_only:
            if field.type in UNFILTERABLE:
                return "unfilterable", None
            return "filter", field.column
        for role, names in (
            ("limit", LIMIT_NAMES),
            ("cursor", CURSOR_NAMES),
            ("page", PAGE_NAMES),
            ("offset", OFFSET_NAMES),
            ("sort", SORT_NAMES),
            ("order", ORDER_NAMES),
        ):
            if name in names:
                return role, None
        return "other", None

    def _status(self, kind: Kind, success: list[str], declared: int | None) -> int:
        codes = {int(s) for s in success if s.isdigit()}
        if kind == Kind.CREATE:
            return 201 if 201 in codes or not codes else (declared or min(codes))
        if kind == Kind.DELETE:
            return 204 if 204 in codes or not codes else min(codes)
        return 200 if 200 in codes or not codes else (declared or min(codes))

    def _default_sort(self, ext: dict[str, Any], resource: Resource) -> tuple[str, ...]:
        declared = ext.get("sort")
        if isinstance(declared, str):
            return tuple(s.strip() for s in declared.split(",") if s.strip())
        if isinstance(declared, list):
            return tuple(str(s) for s in declared)
        created = next((f for f in resource.fields if f.generated == Generated.CREATED), None)
        key = [f"-{c}" if created else c for c in resource.primary_key]
        return (f"-{created.column}", *key) if created else tuple(key)


_AFFIXES = ("Create", "Update", "Patch", "Input", "Request", "Body", "Payload", "Dto", "Data")


def _strip_affixes(name: str) -> str:
    for prefix in ("New", "Create", "Update", "Patch"):
        if name.startswith(prefix) and len(name) > len(prefix) and name[len(prefix)].isupper():
            name = name[len(prefix) :]
    changed = True
    while changed:
        changed = False
        for suffix in _AFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                name, changed = name[: -len(suffix)], True
    return name
