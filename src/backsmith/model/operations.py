"""Conventions that map each declared operation to a CRUD kind over a resource."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from backsmith.contract.source import escape
from backsmith.model.naming import names_match, singular, snake
from backsmith.model.relations import RelationGraph
from backsmith.model.schemas import component_name, deref, flatten, schema_types
from backsmith.model.security import access_of
from backsmith.model.shapes import ShapeBuilder, natural_key
from backsmith.model.types import (
    ACCOUNT_KINDS,
    Envelope,
    FieldType,
    Generated,
    Hop,
    ItemShape,
    Kind,
    Member,
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
_LINK_FORMATS = frozenset({"uri", "uri-reference", "url", "iri", "iri-reference"})
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
        shapes: ShapeBuilder | None = None,
    ) -> None:
        self.document = document
        self.resources = resources
        self.schema_resources = schema_resources
        self.graph = shapes.graph if shapes is not None else RelationGraph(resources)
        self.shapes = shapes

    # ------------------------------------------------------------------ shapes
    def shape_of(self, schema: Any, item: bool = False) -> _Shape:
        """How a response schema carries rows: one item, a bare array, an envelope, a wrapper.

        With `item`, the response is known to be one row, so an object holding an array is
        that row with embedded children, not a list envelope.
        """
        name = component_name(schema)
        if name in self.schema_resources:
            return _Shape(schema, Envelope(), False, name)
        if item:
            return self._item_shape_of(schema, name)
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
            meta = self._envelope_parts(properties, items_key)
            envelope = Envelope(items=items_key, **meta)
            return _Shape(arrays[items_key], envelope, True, component_name(arrays[items_key]))
        return self._item_shape_of(schema, name)

    def _item_shape_of(self, schema: Any, name: str | None) -> _Shape:
        wrapped = self._wrapped(schema)
        if wrapped is not None:
            key, inner = wrapped
            return _Shape(inner, Envelope(wrapper=key), False, component_name(inner))
        return _Shape(schema, Envelope(), False, name)

    def _wrapped(self, schema: Any) -> tuple[str, Any] | None:
        """(key, inner schema) of a one-property object wrapping one row: `{"book": {...}}`.

        The inner schema is a resource's (or its `BookCreate` variant's), or an inline object
        under a key that names a table. Used for responses and request bodies alike.
        """
        properties = flatten(self.document, schema).get("properties") or {}
        if len(properties) != 1:
            return None
        key, inner = next(iter(properties.items()))
        name = component_name(inner)
        if name is not None and (
            name in self.schema_resources or _strip_affixes(name) in self.schema_resources
        ):
            return key, inner
        titled = key[:1].upper() + key[1:]
        named = titled in self.schema_resources or self._table_named(key)
        if flatten(self.document, inner).get("properties") and named:
            return key, inner
        return None

    def _envelope_parts(self, properties: dict[str, Any], items_key: str) -> dict[str, str | None]:
        """Where the cursor, total, page... go: top-level keys or inside a `meta` object."""
        found: dict[str, str | None] = dict.fromkeys([*ENVELOPE_NAMES, "next"])
        places: list[tuple[str, dict[str, Any]]] = [("", properties)]
        for key, value in properties.items():
            nested = flatten(self.document, value)
            if key != items_key and nested.get("properties"):
                places.append((f"{key}.", nested["properties"]))
                for inner, inner_value in nested["properties"].items():
                    deeper = flatten(self.document, inner_value).get("properties")
                    if deeper:  # meta.pagination.next_cursor
                        places.append((f"{key}.{inner}.", deeper))
        for role, names in ENVELOPE_NAMES.items():
            for prefix, props in places:
                hit = next((k for k in props if snake(k) in names and k != items_key), None)
                if hit is not None:
                    found[role] = prefix + hit
                    fmt = flatten(self.document, props[hit]).get("format")
                    if role == "cursor" and fmt in _LINK_FORMATS:  # DRF's `next`, HAL-ish links
                        found["next"], found["cursor"] = found["cursor"], None
                    break
        if found["total"] is None:
            counted = f"{snake(items_key)}_count"
            found["total"] = next((k for k in properties if snake(k) == counted), None)
        return found

    def _declared_envelope(self, declared: Any, envelope: Envelope, is_list: bool) -> Envelope:
        if isinstance(declared, str):
            return Envelope(items=declared) if is_list else Envelope(wrapper=declared)
        if isinstance(declared, dict):
            return Envelope(**{k: v for k, v in declared.items() if isinstance(v, str)})
        return envelope

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
            "access": access_of(self.document, op, ext),
            "ignore_unknown_fields": ext.get(
                "unknown-fields", (self.document.get("x-backsmith") or {}).get("unknown-fields")
            )
            == "ignore",
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
        segments = [s for s in path.strip("/").split("/") if s]
        one = method != "get" or (bool(segments) and segments[-1].startswith("{"))
        shape = self.shape_of(response_schema, item=one) if response_schema else None
        if shape is not None and "envelope" in ext:
            shape = self._declared_shape(response_schema, ext["envelope"], shape)
        link = self._link(ext, method, segments, params, pointer)
        if isinstance(link, str):
            return custom(link)
        if link is not None:
            return self._link_operation(link, method, success, response_media, shape, base)
        body_wrapper, body_item = self._unwrap_body(body_schema)
        resource = self._resource(ext, shape, body_item, path)
        if ext.get("kind") in ACCOUNT_KINDS:
            return self._account_operation(
                Kind(ext["kind"]),
                ext,
                resource,
                shape,
                response_status,
                response_media,
                success,
                body_wrapper,
                body_item,
                base,
            )
        if resource is None:
            return custom("no resource: its schemas and path match no table")
        is_item = bool(segments) and segments[-1].startswith("{")
        kind = self._kind(ext, method, is_item, shape, resource, segments, body_item)
        if not isinstance(kind, Kind):
            return custom(kind, resource.name)
        if kind in (Kind.CREATE, Kind.REPLACE, Kind.UPDATE) and body_schema is None:
            if body_media == () and op.get("requestBody"):
                return custom("request body is not JSON", resource.name)
            return custom("a write without a JSON request body", resource.name)
        item_schema = shape.item_schema if shape else None
        if item_schema is not None and not flatten(self.document, item_schema).get("properties"):
            item_schema = None
        response_shape = self._item_shape(resource, item_schema, f"{pointer}/responses")
        roles = self._roles(params, resource, segments, kind, is_item, response_shape)
        if isinstance(roles, str):
            return custom(roles, resource.name)
        key_in_body = None
        if kind in (Kind.REPLACE, Kind.UPDATE) and not is_item:
            key_in_body = resource.key.name
        status = self._status(kind, success, response_status)
        envelope = shape.envelope if shape else Envelope()
        response = Response(status, response_media, item_schema, envelope, response_shape)
        body_shape = None
        if kind in (Kind.CREATE, Kind.REPLACE, Kind.UPDATE) and body_item is not None:
            body_shape = self._item_shape(resource, body_item, f"{pointer}/requestBody")
        return Operation(
            kind=kind,
            resource=resource.name,
            params=roles,
            response=response,
            key_in_body=key_in_body,
            default_sort=self._default_sort(ext, resource) if kind == Kind.LIST else (),
            page_size=ext.get("page-size"),
            max_page_size=ext.get("max-page-size"),
            body_shape=body_shape,
            body_wrapper=body_wrapper,
            replace_children=ext.get("children") == "replace",
            **base,
        )

    def _account_operation(
        self,
        kind: Kind,
        ext: dict[str, Any],
        resource: Resource | None,
        shape: _Shape | None,
        response_status: int | None,
        response_media: str | None,
        success: list[str],
        body_wrapper: str | None,
        body_item: Any,
        base: dict[str, Any],
    ) -> Operation:
        """register, login, refresh, logout or me: shaped by the accounts table where the
        schemas describe its rows (the profile), and by their own properties elsewhere."""
        pointer = base["pointer"]
        item_schema = shape.item_schema if shape is not None else None
        response_shape = None
        profile = item_schema is not None and flatten(self.document, item_schema).get("properties")
        if resource is not None and profile:
            response_shape = self._item_shape(resource, item_schema, f"{pointer}/responses")
        default = 201 if kind == Kind.REGISTER else (204 if kind == Kind.LOGOUT else 200)
        status = response_status or (int(success[0]) if success else default)
        envelope = shape.envelope if shape is not None else Envelope()
        response = Response(status, response_media, item_schema, envelope, response_shape)
        body_shape = None
        writes = kind in (Kind.REGISTER, Kind.ME) and body_item is not None
        if resource is not None and writes and flatten(self.document, body_item).get("properties"):
            body_shape = self._item_shape(resource, body_item, f"{pointer}/requestBody")
        return Operation(
            kind=kind,
            resource=resource.name if resource is not None else None,
            response=response,
            body_shape=body_shape,
            body_wrapper=body_wrapper,
            token_field=ext.get("token-field"),
            **base,
        )

    def _item_shape(self, resource: Resource, schema: Any, pointer: str) -> ItemShape:
        if schema is None or self.shapes is None:
            return flat_shape(resource)
        return self.shapes.item(resource, schema, pointer)

    def _declared_shape(self, schema: Any, declared: Any, found: _Shape) -> _Shape:
        envelope = self._declared_envelope(declared, found.envelope, found.is_list)
        place = envelope.items or envelope.wrapper
        if place is None:
            return _Shape(schema, envelope, found.is_list, component_name(schema))
        current = flatten(self.document, schema)
        for part in place.split("."):
            current = flatten(self.document, (current.get("properties") or {}).get(part, {}))
        is_list = envelope.items is not None
        inner = current.get("items", {}) if is_list else current
        return _Shape(inner, envelope, is_list, component_name(inner))

    def _unwrap_body(self, body: Any) -> tuple[str | None, Any]:
        """`{"book": {...}}` bodies: the wrapper key and the schema of what it wraps."""
        if body is None:
            return None, None
        wrapped = None if component_name(body) in self.schema_resources else self._wrapped(body)
        return wrapped if wrapped is not None else (None, body)

    def _table_named(self, name: str) -> str | None:
        return next((r.table for r in self.resources.values() if names_match(name, r.table)), None)

    # ------------------------------------------------------------------ links
    def _link(
        self,
        ext: dict[str, Any],
        method: str,
        segments: list[str],
        params: list[Param],
        pointer: str,
    ) -> tuple[Resource, Hop, list[Param], str | None] | str | None:
        """A link operation: (parent resource, hop, params with roles, principal column)."""
        if method not in ("put", "post", "delete"):
            return None
        declared = ext.get("link")
        if declared is None:
            # PUT /books/{id}/genres/{genreId}: the last static segment is a join relation
            if len(segments) < 4 or not segments[-1].startswith("{"):
                return None
            if not segments[-3].startswith("{") or segments[-2].startswith("{"):
                return None
            parent = self._resource_of_segment(segments[-4]) if len(segments) >= 4 else None
            if parent is None:
                return None
            hop = self.graph.find(parent.table, segments[-2], to_many=True)
            if hop is None or hop.kind != "through":
                return None
            target = self.graph.resource(hop.target)
            assert target is not None
            roles = []
            for param in params:
                if param.location != "path":
                    roles.append(param)
                elif f"{{{param.name}}}" == segments[-1]:
                    column = self._address_column(target, param.name)
                    roles.append(_with_role(param, "target", column))
                elif f"{{{param.name}}}" == segments[-3]:
                    roles.append(_with_role(param, "key", self._address_column(parent, param.name)))
                else:
                    return None
            return parent, hop, roles, None
        # POST /books/{slug}/wishlist with x-backsmith: {link: wishlists}: the caller's link
        statics = [s for s in segments if not s.startswith("{")]
        item_at = max((i for i, s in enumerate(segments) if s.startswith("{")), default=-1)
        if item_at < 1:
            return "a link operation needs an item path such as /books/{id}/wishlist"
        parent = self._resource_of_segment(segments[item_at - 1])
        if parent is None:
            return f"'{segments[item_at - 1]}' names no table"
        hop = self.graph.find(parent.table, str(declared), to_many=True)
        if hop is None or hop.kind != "many":
            return f"'{declared}' is not a table that refers to {parent.table}"
        rows = self.graph.resource(hop.target)
        principal = _other_reference(rows, hop) if rows is not None else None
        if principal is None:
            return f"cannot tell which column of {hop.target} names the caller"
        del statics
        roles = []
        for param in params:
            if param.location == "path" and f"{{{param.name}}}" == segments[item_at]:
                roles.append(_with_role(param, "key", self._address_column(parent, param.name)))
            else:
                roles.append(param)
        return parent, hop, roles, principal

    def _link_operation(
        self,
        link: tuple[Resource, Hop, list[Param], str | None],
        method: str,
        success: list[str],
        media: str | None,
        shape: _Shape | None,
        base: dict[str, Any],
    ) -> Operation:
        parent, hop, params, principal = link
        codes = sorted(int(s) for s in success if s.isdigit())
        response_shape = None
        schema = None
        if shape is not None and media is not None:
            schema = shape.item_schema
            returned = self.resources.get(self.schema_resources.get(shape.schema_name or "", ""))
            if returned is None or returned.table not in (parent.table, hop.target):
                returned = parent
            response_shape = self._item_shape(returned, schema, f"{base['pointer']}/responses")
        status = codes[0] if codes else (204 if response_shape is None else 200)
        envelope = shape.envelope if shape else Envelope()
        response = Response(
            status, media if response_shape else None, schema, envelope, response_shape
        )
        return Operation(
            kind=Kind.UNLINK if method == "delete" else Kind.LINK,
            resource=parent.name,
            params=tuple(params),
            response=response,
            link=hop,
            link_principal=principal,
            **base,
        )

    def _resource_of_segment(self, segment: str) -> Resource | None:
        found = [r for r in self.resources.values() if self._segment_names(segment, r, "")]
        return found[0] if len(found) == 1 else None

    def _address_column(self, resource: Resource, name: str) -> str:
        """The column a path parameter addresses rows by: `{slug}`, `{bookId}`, `{id}`."""
        field = resource.field(name)
        if field is None:
            stem = snake(name)
            prefix = f"{singular(resource.table)}_"
            if stem.startswith(prefix):
                field = resource.field(stem.removeprefix(prefix))
        if field is not None and not field.hidden:
            return field.column
        return resource.key.column

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
            declared = (param.get("x-backsmith") or {}).get("filter")
            params.append(
                Param(
                    name=name,
                    location=location,
                    required=bool(param.get("required")) or location == "path",
                    schema=schema if isinstance(schema, dict) else {},
                    style=style,
                    explode=param.get("explode", style == "form"),
                    declared=declared if isinstance(declared, str) else None,
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
        shape: ItemShape,
    ) -> tuple[Param, ...] | str:
        out: list[Param] = []
        path_params = [s[1:-1] for s in segments if s.startswith("{") and s.endswith("}")]
        for param in params:
            if param.location == "path":
                if is_item and param.name == path_params[-1]:
                    column = self._key_column(resource, param.name)
                    if column is None:
                        return (
                            f"path parameter '{param.name}' names a column of {resource.table} "
                            "that is not unique"
                        )
                    out.append(_with_role(param, "key", column))
                    continue
                scoped = self._scope(resource, segments, param)
                if isinstance(scoped, str):
                    return scoped
                out.append(scoped)
            elif param.location == "query" and kind == Kind.LIST:
                found = self._query_role(param, resource, shape)
                if isinstance(found, str):
                    return found
                out.append(found)
            else:
                out.append(param)
        return tuple(out)

    def _key_column(self, resource: Resource, name: str) -> str | None:
        """The column an item path's last parameter addresses: the key or a unique column."""
        field = resource.field(name)
        if field is None or field.hidden:
            column = self._address_column(resource, name)
            field = resource.field(column)
        assert field is not None
        if field.primary_key or field.unique or resource.source == "schema":
            return field.column
        if any(index.unique and index.columns == (field.column,) for index in resource.indexes):
            return field.column
        return None

    def _scope(self, resource: Resource, segments: list[str], param: Param) -> Param | str:
        """A parent path parameter: a column of the resource, or rows reached through a hop."""
        index = segments.index(f"{{{param.name}}}")
        parent_segment = segments[index - 1] if index > 0 else ""
        hop = None
        if parent_segment and not parent_segment.startswith("{"):
            hop = self.graph.find(resource.table, parent_segment, to_many=False)
            if hop is None:
                hop = self.graph.find(resource.table, parent_segment)
        if hop is not None:
            parent = self.graph.resource(hop.target)
            assert parent is not None
            column = self._address_column(parent, param.name)
            if hop.kind == "one" and (column,) == hop.target_columns:
                return _with_role(param, "scope", hop.source_columns[0])
            return _with_role(param, "scope", column, hops=(hop,))
        field = resource.field(param.name)
        if field is not None and not field.hidden:
            return _with_role(param, "scope", field.column)
        return f"cannot tell which column path parameter '{param.name}' scopes"

    def _query_role(self, param: Param, resource: Resource, shape: ItemShape) -> Param | str:
        if param.declared is not None:
            return self._declared_filter(param, resource, shape)
        name = snake(param.name)
        field = resource.field(param.name)
        if field is not None and not field.hidden and not field.write_only:
            if field.type in UNFILTERABLE:
                return f"cannot filter on '{param.name}' ({field.type})"
            return _with_role(param, "filter", field.column)
        for role, names in (
            ("limit", LIMIT_NAMES),
            ("cursor", CURSOR_NAMES),
            ("page", PAGE_NAMES),
            ("offset", OFFSET_NAMES),
            ("sort", SORT_NAMES),
            ("order", ORDER_NAMES),
        ):
            if name in names:
                return _with_role(param, role, None)
        member = shape.member(param.name)
        if member is not None and member.computed is not None:
            return _with_role(param, "filter", None, computed=member)
        hop = self.graph.find(resource.table, name)
        target = self.graph.resource(hop.target) if hop is not None else None
        if hop is not None and target is not None:  # ?author=le-guin, ?genre=fantasy
            column = natural_key(target)
            if column is not None:
                return _with_role(param, "filter", column, hops=(hop,))
        return param

    def _declared_filter(self, param: Param, resource: Resource, shape: ItemShape) -> Param | str:
        declared = str(param.declared)
        member = shape.member(declared)
        if member is not None and member.computed is not None:
            return _with_role(param, "filter", None, computed=member)
        field = resource.field(declared)
        if field is not None and "." not in declared:
            return _with_role(param, "filter", field.column)
        found = self.graph.path(resource.table, declared)
        if found is None or not found[0]:
            return f"filter '{declared}' of parameter '{param.name}' names no relation path"
        hops, column = found
        target = self.graph.resource(hops[-1].target)
        if column is None and target is not None:
            column = natural_key(target)
        if column is None:
            return f"filter '{declared}' of parameter '{param.name}' needs a column at its end"
        return _with_role(param, "filter", column, hops=tuple(hops))

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


def _with_role(
    param: Param,
    role: str,
    column: str | None,
    hops: tuple[Hop, ...] = (),
    computed: Member | None = None,
) -> Param:
    return replace(
        param,
        role=role,
        column=column,
        hops=hops,
        computed=computed.computed if computed is not None else None,
        declared=computed.name if computed is not None else param.declared,
    )


def _other_reference(rows: Resource, hop: Hop) -> str | None:
    """In a table that refers back along `hop`, its one other single-column reference."""
    others = [r for r in rows.relations if r.columns != hop.target_columns and len(r.columns) == 1]
    return others[0].columns[0] if len(others) == 1 else None


def flat_shape(resource: Resource) -> ItemShape:
    """Every visible column under its API name: the shape when a schema says nothing."""
    members = tuple(
        Member(f.name, "column", column=f.column, type=f.type, nullable=True)
        for f in resource.fields
        if not f.hidden and not f.write_only
    )
    return ItemShape(resource.name, members)


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
